/**
 * The page's words in English, Spanish, French and German, chosen from Accept-Language.
 * Amounts are formatted with Intl.NumberFormat for the visitor's locale.
 */
import type { FailureCode } from '../domain/payments/intents.js'

export type Lang = 'en' | 'es' | 'fr' | 'de'

/** What each language says on the page, but the failure reasons (FAILURES). */
export interface Phrases {
  title: string
  payTo: (tenant: string) => string
  savedCards: string
  useSavedCard: (brand: string, last4: string, month: string, year: string) => string
  newCard: string
  cardNumber: string
  expiry: string
  expiryHint: string
  cvc: string
  nameOnCard: string
  saveCard: string
  pay: (amount: string) => string
  processing: string
  succeededTitle: string
  succeededBody: string
  failedTitle: string
  expiredTitle: string
  expiredBody: string
  usedTitle: string
  usedBody: string
  notFoundTitle: string
  notFoundBody: string
  topLevelTitle: string
  topLevelBody: string
  challengeTitle: string
  challengeBody: string
  /** While the frame goes to the card's bank for 3-D Secure. */
  redirectTitle: string
  continueToBank: string
  approve: string
  decline: string
  securedBy: string
  errors: { number: string; expiry: string; cvc: string; name: string; generic: string; network: string }
}

/** A value per language, for each key of T. */
type Table<T> = { [K in keyof T]: Record<Lang, T[K]> }

/** Column `lang` of a table. */
const column = <T>(table: Table<T>, lang: Lang): T => Object.fromEntries(Object.entries(table).map(([key, byLang]) => [key, (byLang as Record<Lang, unknown>)[lang]])) as T

export interface Strings extends Phrases {
  failures: Record<FailureCode, string>
}

/** One row per phrase, the four languages side by side (a translator sees a row at once). */
const PHRASES: Table<Omit<Phrases, 'errors'>> = {
  title: {
    en: 'Pay by card',
    es: 'Pagar con tarjeta',
    fr: 'Payer par carte',
    de: 'Mit Karte bezahlen',
  },
  payTo: {
    en: (t) => `Pay ${t}`,
    es: (t) => `Pagar a ${t}`,
    fr: (t) => `Payer ${t}`,
    de: (t) => `Zahlung an ${t}`,
  },
  savedCards: {
    en: 'Saved cards',
    es: 'Tarjetas guardadas',
    fr: 'Cartes enregistrées',
    de: 'Gespeicherte Karten',
  },
  useSavedCard: {
    en: (b, l, m, y) => `${b} ending in ${l}, expires ${m}/${y}`,
    es: (b, l, m, y) => `${b} terminada en ${l}, caduca ${m}/${y}`,
    fr: (b, l, m, y) => `${b} se terminant par ${l}, expire ${m}/${y}`,
    de: (b, l, m, y) => `${b} mit Endziffern ${l}, gültig bis ${m}/${y}`,
  },
  newCard: {
    en: 'New card',
    es: 'Tarjeta nueva',
    fr: 'Nouvelle carte',
    de: 'Neue Karte',
  },
  cardNumber: {
    en: 'Card number',
    es: 'Número de tarjeta',
    fr: 'Numéro de carte',
    de: 'Kartennummer',
  },
  expiry: {
    en: 'Expiry date',
    es: 'Fecha de caducidad',
    fr: 'Date d’expiration',
    de: 'Ablaufdatum',
  },
  expiryHint: {
    en: 'MM / YY',
    es: 'MM / AA',
    fr: 'MM / AA',
    de: 'MM / JJ',
  },
  cvc: {
    en: 'Security code',
    es: 'Código de seguridad',
    fr: 'Code de sécurité',
    de: 'Prüfnummer',
  },
  nameOnCard: {
    en: 'Name on card',
    es: 'Nombre en la tarjeta',
    fr: 'Nom sur la carte',
    de: 'Name auf der Karte',
  },
  saveCard: {
    en: 'Save card for future use',
    es: 'Guardar tarjeta para futuros pagos',
    fr: 'Enregistrer la carte pour mes prochains achats',
    de: 'Karte für künftige Zahlungen speichern',
  },
  pay: {
    en: (a) => `Pay ${a}`,
    es: (a) => `Pagar ${a}`,
    fr: (a) => `Payer ${a}`,
    de: (a) => `${a} bezahlen`,
  },
  redirectTitle: {
    en: 'Taking you to your bank to confirm this payment…',
    es: 'Te llevamos a tu banco para confirmar este pago…',
    fr: 'Redirection vers votre banque pour confirmer ce paiement…',
    de: 'Weiterleitung zu Ihrer Bank, um diese Zahlung zu bestätigen …',
  },
  continueToBank: {
    en: 'Continue to your bank',
    es: 'Continuar con tu banco',
    fr: 'Continuer vers votre banque',
    de: 'Weiter zu Ihrer Bank',
  },
  processing: {
    en: 'Processing your payment…',
    es: 'Procesando el pago…',
    fr: 'Paiement en cours…',
    de: 'Zahlung wird verarbeitet …',
  },
  succeededTitle: {
    en: 'Payment successful',
    es: 'Pago realizado',
    fr: 'Paiement réussi',
    de: 'Zahlung erfolgreich',
  },
  succeededBody: {
    en: 'Thank you. Your payment went through.',
    es: 'Gracias. Tu pago se ha completado.',
    fr: 'Merci. Votre paiement a été accepté.',
    de: 'Vielen Dank. Ihre Zahlung ist eingegangen.',
  },
  failedTitle: {
    en: 'Payment failed',
    es: 'El pago no se pudo completar',
    fr: 'Le paiement a échoué',
    de: 'Zahlung fehlgeschlagen',
  },
  expiredTitle: {
    en: 'This payment link has expired',
    es: 'Este enlace de pago ha caducado',
    fr: 'Ce lien de paiement a expiré',
    de: 'Dieser Zahlungslink ist abgelaufen',
  },
  expiredBody: {
    en: 'Go back to the shop to start the payment again.',
    es: 'Vuelve a la tienda para iniciar el pago de nuevo.',
    fr: 'Retournez sur la boutique pour recommencer le paiement.',
    de: 'Kehren Sie zum Shop zurück, um die Zahlung neu zu beginnen.',
  },
  usedTitle: {
    en: 'This payment link was already used',
    es: 'Este enlace de pago ya se utilizó',
    fr: 'Ce lien de paiement a déjà été utilisé',
    de: 'Dieser Zahlungslink wurde bereits verwendet',
  },
  usedBody: {
    en: 'Each payment link works once. Go back to the shop to start a new payment.',
    es: 'Cada enlace de pago funciona una sola vez. Vuelve a la tienda para iniciar un pago nuevo.',
    fr: 'Chaque lien de paiement ne fonctionne qu’une fois. Retournez sur la boutique pour un nouveau paiement.',
    de: 'Jeder Zahlungslink funktioniert nur einmal. Kehren Sie zum Shop zurück, um eine neue Zahlung zu beginnen.',
  },
  notFoundTitle: {
    en: 'Payment link not found',
    es: 'Enlace de pago no encontrado',
    fr: 'Lien de paiement introuvable',
    de: 'Zahlungslink nicht gefunden',
  },
  notFoundBody: {
    en: 'Check the link, or go back to the shop to start the payment again.',
    es: 'Comprueba el enlace o vuelve a la tienda para iniciar el pago de nuevo.',
    fr: 'Vérifiez le lien, ou retournez sur la boutique pour recommencer le paiement.',
    de: 'Prüfen Sie den Link oder kehren Sie zum Shop zurück, um die Zahlung neu zu beginnen.',
  },
  topLevelTitle: {
    en: 'Open this payment from the shop',
    es: 'Abre este pago desde la tienda',
    fr: 'Ouvrez ce paiement depuis la boutique',
    de: 'Öffnen Sie diese Zahlung im Shop',
  },
  topLevelBody: {
    en: 'This payment page works only inside the shop’s own website. Go back to the shop and pay there.',
    es: 'Esta página de pago solo funciona dentro del sitio web de la tienda. Vuelve a la tienda y paga allí.',
    fr: 'Cette page de paiement ne fonctionne que dans le site de la boutique. Retournez sur la boutique pour payer.',
    de: 'Diese Zahlungsseite funktioniert nur innerhalb der Website des Shops. Kehren Sie zum Shop zurück und bezahlen Sie dort.',
  },
  challengeTitle: {
    en: 'Confirm with your bank',
    es: 'Confirma con tu banco',
    fr: 'Confirmez auprès de votre banque',
    de: 'Bei Ihrer Bank bestätigen',
  },
  challengeBody: {
    en: 'Your bank asks you to confirm this payment (test 3-D Secure).',
    es: 'Tu banco te pide que confirmes este pago (3-D Secure de prueba).',
    fr: 'Votre banque vous demande de confirmer ce paiement (3-D Secure de test).',
    de: 'Ihre Bank bittet Sie, diese Zahlung zu bestätigen (Test-3-D-Secure).',
  },
  approve: {
    en: 'Approve',
    es: 'Aprobar',
    fr: 'Approuver',
    de: 'Bestätigen',
  },
  decline: {
    en: 'Decline',
    es: 'Rechazar',
    fr: 'Refuser',
    de: 'Ablehnen',
  },
  securedBy: {
    en: 'Secure card payment',
    es: 'Pago seguro con tarjeta',
    fr: 'Paiement sécurisé par carte',
    de: 'Sichere Kartenzahlung',
  },
}

/** What the page says of a card field it cannot accept, and of a call that did not get through. */
const ERRORS: Table<Phrases['errors']> = {
  number: {
    en: 'Enter a valid card number.',
    es: 'Introduce un número de tarjeta válido.',
    fr: 'Saisissez un numéro de carte valide.',
    de: 'Geben Sie eine gültige Kartennummer ein.',
  },
  expiry: {
    en: 'Enter an expiry date in the future.',
    es: 'Introduce una fecha de caducidad futura.',
    fr: 'Saisissez une date d’expiration future.',
    de: 'Geben Sie ein Ablaufdatum in der Zukunft ein.',
  },
  cvc: {
    en: 'Enter the security code.',
    es: 'Introduce el código de seguridad.',
    fr: 'Saisissez le code de sécurité.',
    de: 'Geben Sie die Prüfnummer ein.',
  },
  name: {
    en: 'The name is too long.',
    es: 'El nombre es demasiado largo.',
    fr: 'Le nom est trop long.',
    de: 'Der Name ist zu lang.',
  },
  generic: {
    en: 'Check the card details.',
    es: 'Revisa los datos de la tarjeta.',
    fr: 'Vérifiez les informations de la carte.',
    de: 'Prüfen Sie die Kartendaten.',
  },
  network: {
    en: 'We could not reach the payment service. Try again.',
    es: 'No pudimos contactar con el servicio de pago. Inténtalo de nuevo.',
    fr: 'Le service de paiement est injoignable. Réessayez.',
    de: 'Der Zahlungsdienst ist nicht erreichbar. Versuchen Sie es erneut.',
  },
}


/** The plain reason for each failure code, in each language: one row per code, so a translator sees them side by side. */
const FAILURES: Table<Record<FailureCode, string>> = {
  card_declined: {
    en: 'Your card was declined.',
    es: 'Tu tarjeta fue rechazada.',
    fr: 'Votre carte a été refusée.',
    de: 'Ihre Karte wurde abgelehnt.',
  },
  insufficient_funds: {
    en: 'Your card has insufficient funds.',
    es: 'Tu tarjeta no tiene fondos suficientes.',
    fr: 'Le solde de votre carte est insuffisant.',
    de: 'Ihre Karte ist nicht ausreichend gedeckt.',
  },
  expired_card: {
    en: 'Your card has expired.',
    es: 'Tu tarjeta ha caducado.',
    fr: 'Votre carte a expiré.',
    de: 'Ihre Karte ist abgelaufen.',
  },
  incorrect_cvc: {
    en: 'The security code is incorrect.',
    es: 'El código de seguridad es incorrecto.',
    fr: 'Le code de sécurité est incorrect.',
    de: 'Die Prüfnummer ist falsch.',
  },
  incorrect_number: {
    en: 'Your card number is incorrect.',
    es: 'El número de tu tarjeta es incorrecto.',
    fr: 'Le numéro de votre carte est incorrect.',
    de: 'Ihre Kartennummer ist falsch.',
  },
  lost_or_stolen: {
    en: 'Your card was declined. Please use another card.',
    es: 'Tu tarjeta fue rechazada. Usa otra tarjeta.',
    fr: 'Votre carte a été refusée. Veuillez utiliser une autre carte.',
    de: 'Ihre Karte wurde abgelehnt. Bitte verwenden Sie eine andere Karte.',
  },
  fraudulent: {
    en: 'Your card was declined. Please use another card.',
    es: 'Tu tarjeta fue rechazada. Usa otra tarjeta.',
    fr: 'Votre carte a été refusée. Veuillez utiliser une autre carte.',
    de: 'Ihre Karte wurde abgelehnt. Bitte verwenden Sie eine andere Karte.',
  },
  processing_error: {
    en: 'An error occurred while processing your card.',
    es: 'Se produjo un error al procesar tu tarjeta.',
    fr: 'Une erreur est survenue lors du traitement de votre carte.',
    de: 'Bei der Verarbeitung Ihrer Karte ist ein Fehler aufgetreten.',
  },
  authentication_failed: {
    en: 'The payment was not confirmed with your bank.',
    es: 'El pago no se confirmó con tu banco.',
    fr: 'Le paiement n’a pas été confirmé auprès de votre banque.',
    de: 'Die Zahlung wurde von Ihrer Bank nicht bestätigt.',
  },
  link_expired: {
    en: 'This payment link has expired.',
    es: 'Este enlace de pago ha caducado.',
    fr: 'Ce lien de paiement a expiré.',
    de: 'Dieser Zahlungslink ist abgelaufen.',
  },
}

const stringsIn = (lang: Lang): Strings => ({ ...column(PHRASES, lang), errors: column(ERRORS, lang), failures: column(FAILURES, lang) })

export const STRINGS: Record<Lang, Strings> = { en: stringsIn('en'), es: stringsIn('es'), fr: stringsIn('fr'), de: stringsIn('de') }

/** The best of our languages for an Accept-Language header, and the locale to format numbers in. */
export function negotiate(acceptLanguage: string | undefined): { lang: Lang; locale: string } {
  const ranges = (acceptLanguage ?? '')
    .split(',')
    .map((part, i) => {
      const [tag = '', ...params] = part.trim().split(';')
      const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)?.[1]).find(Boolean)
      return { tag: tag.trim(), q: q === undefined ? 1 : Number(q), i }
    })
    .filter((r) => r.tag && r.tag !== '*' && r.q > 0 && /^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$/.test(r.tag))
    .sort((a, b) => b.q - a.q || a.i - b.i)
  for (const r of ranges) {
    const lang = r.tag.split('-')[0]!.toLowerCase()
    if (lang in STRINGS) {
      let locale = r.tag
      try {
        locale = Intl.getCanonicalLocales(r.tag)[0] ?? lang
      } catch {
        locale = lang
      }
      return { lang: lang as Lang, locale }
    }
  }
  return { lang: 'en', locale: 'en-US' }
}

/**
 * Making an Intl.NumberFormat costs tens of microseconds (a tenth of a page's CPU) and a
 * handful of them serve every page, so they are kept per locale, currency and digits; the
 * locale comes from a request header, so the cache is bounded.
 */
const numberFormats = new Map<string, Intl.NumberFormat>()
const NUMBER_FORMATS_MAX = 256

export function formatAmount(amountMajor: string, currency: string, locale: string): string {
  const digits = amountMajor.includes('.') ? amountMajor.split('.')[1]!.length : 0
  const key = `${locale}\u0000${currency}\u0000${digits}`
  let format = numberFormats.get(key)
  if (!format) {
    format = new Intl.NumberFormat(locale, { style: 'currency', currency, minimumFractionDigits: digits, maximumFractionDigits: digits })
    if (numberFormats.size >= NUMBER_FORMATS_MAX) numberFormats.clear()
    numberFormats.set(key, format)
  }
  return format.format(Number(amountMajor))
}
