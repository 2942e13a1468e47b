/**
 * The page's words in English, Spanish, French and German, chosen from Accept-Language.
 * Amounts are formatted with Intl.NumberFormat for the visitor's locale.
 */
import type { FailureCode } from '../domain/payments/intents.js'

export type Lang = 'en' | 'es' | 'fr' | 'de'

export interface Strings {
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
  approve: string
  decline: string
  securedBy: string
  errors: { number: string; expiry: string; cvc: string; name: string; generic: string; network: string }
  failures: Record<FailureCode, string>
}

const en: Strings = {
  title: 'Pay by card',
  payTo: (t) => `Pay ${t}`,
  savedCards: 'Saved cards',
  useSavedCard: (b, l, m, y) => `${b} ending in ${l}, expires ${m}/${y}`,
  newCard: 'New card',
  cardNumber: 'Card number',
  expiry: 'Expiry date',
  expiryHint: 'MM / YY',
  cvc: 'Security code',
  nameOnCard: 'Name on card',
  saveCard: 'Save card for future use',
  pay: (a) => `Pay ${a}`,
  processing: 'Processing your payment…',
  succeededTitle: 'Payment successful',
  succeededBody: 'Thank you. Your payment went through.',
  failedTitle: 'Payment failed',
  expiredTitle: 'This payment link has expired',
  expiredBody: 'Go back to the shop to start the payment again.',
  usedTitle: 'This payment link was already used',
  usedBody: 'Each payment link works once. Go back to the shop to start a new payment.',
  notFoundTitle: 'Payment link not found',
  notFoundBody: 'Check the link, or go back to the shop to start the payment again.',
  topLevelTitle: 'Open this payment from the shop',
  topLevelBody: 'This payment page works only inside the shop’s own website. Go back to the shop and pay there.',
  challengeTitle: 'Confirm with your bank',
  challengeBody: 'Your bank asks you to confirm this payment (test 3-D Secure).',
  approve: 'Approve',
  decline: 'Decline',
  securedBy: 'Secure card payment',
  errors: {
    number: 'Enter a valid card number.',
    expiry: 'Enter an expiry date in the future.',
    cvc: 'Enter the security code.',
    name: 'The name is too long.',
    generic: 'Check the card details.',
    network: 'We could not reach the payment service. Try again.',
  },
  failures: {
    card_declined: 'Your card was declined.',
    insufficient_funds: 'Your card has insufficient funds.',
    expired_card: 'Your card has expired.',
    incorrect_cvc: 'The security code is incorrect.',
    processing_error: 'An error occurred while processing your card.',
    authentication_failed: 'The payment was not confirmed with your bank.',
    link_expired: 'This payment link has expired.',
  },
}

const es: Strings = {
  title: 'Pagar con tarjeta',
  payTo: (t) => `Pagar a ${t}`,
  savedCards: 'Tarjetas guardadas',
  useSavedCard: (b, l, m, y) => `${b} terminada en ${l}, caduca ${m}/${y}`,
  newCard: 'Tarjeta nueva',
  cardNumber: 'Número de tarjeta',
  expiry: 'Fecha de caducidad',
  expiryHint: 'MM / AA',
  cvc: 'Código de seguridad',
  nameOnCard: 'Nombre en la tarjeta',
  saveCard: 'Guardar tarjeta para futuros pagos',
  pay: (a) => `Pagar ${a}`,
  processing: 'Procesando el pago…',
  succeededTitle: 'Pago realizado',
  succeededBody: 'Gracias. Tu pago se ha completado.',
  failedTitle: 'El pago no se pudo completar',
  expiredTitle: 'Este enlace de pago ha caducado',
  expiredBody: 'Vuelve a la tienda para iniciar el pago de nuevo.',
  usedTitle: 'Este enlace de pago ya se utilizó',
  usedBody: 'Cada enlace de pago funciona una sola vez. Vuelve a la tienda para iniciar un pago nuevo.',
  notFoundTitle: 'Enlace de pago no encontrado',
  notFoundBody: 'Comprueba el enlace o vuelve a la tienda para iniciar el pago de nuevo.',
  topLevelTitle: 'Abre este pago desde la tienda',
  topLevelBody: 'Esta página de pago solo funciona dentro del sitio web de la tienda. Vuelve a la tienda y paga allí.',
  challengeTitle: 'Confirma con tu banco',
  challengeBody: 'Tu banco te pide que confirmes este pago (3-D Secure de prueba).',
  approve: 'Aprobar',
  decline: 'Rechazar',
  securedBy: 'Pago seguro con tarjeta',
  errors: {
    number: 'Introduce un número de tarjeta válido.',
    expiry: 'Introduce una fecha de caducidad futura.',
    cvc: 'Introduce el código de seguridad.',
    name: 'El nombre es demasiado largo.',
    generic: 'Revisa los datos de la tarjeta.',
    network: 'No pudimos contactar con el servicio de pago. Inténtalo de nuevo.',
  },
  failures: {
    card_declined: 'Tu tarjeta fue rechazada.',
    insufficient_funds: 'Tu tarjeta no tiene fondos suficientes.',
    expired_card: 'Tu tarjeta ha caducado.',
    incorrect_cvc: 'El código de seguridad es incorrecto.',
    processing_error: 'Se produjo un error al procesar tu tarjeta.',
    authentication_failed: 'El pago no se confirmó con tu banco.',
    link_expired: 'Este enlace de pago ha caducado.',
  },
}

const fr: Strings = {
  title: 'Payer par carte',
  payTo: (t) => `Payer ${t}`,
  savedCards: 'Cartes enregistrées',
  useSavedCard: (b, l, m, y) => `${b} se terminant par ${l}, expire ${m}/${y}`,
  newCard: 'Nouvelle carte',
  cardNumber: 'Numéro de carte',
  expiry: 'Date d’expiration',
  expiryHint: 'MM / AA',
  cvc: 'Code de sécurité',
  nameOnCard: 'Nom sur la carte',
  saveCard: 'Enregistrer la carte pour mes prochains achats',
  pay: (a) => `Payer ${a}`,
  processing: 'Paiement en cours…',
  succeededTitle: 'Paiement réussi',
  succeededBody: 'Merci. Votre paiement a été accepté.',
  failedTitle: 'Le paiement a échoué',
  expiredTitle: 'Ce lien de paiement a expiré',
  expiredBody: 'Retournez sur la boutique pour recommencer le paiement.',
  usedTitle: 'Ce lien de paiement a déjà été utilisé',
  usedBody: 'Chaque lien de paiement ne fonctionne qu’une fois. Retournez sur la boutique pour un nouveau paiement.',
  notFoundTitle: 'Lien de paiement introuvable',
  notFoundBody: 'Vérifiez le lien, ou retournez sur la boutique pour recommencer le paiement.',
  topLevelTitle: 'Ouvrez ce paiement depuis la boutique',
  topLevelBody: 'Cette page de paiement ne fonctionne que dans le site de la boutique. Retournez sur la boutique pour payer.',
  challengeTitle: 'Confirmez auprès de votre banque',
  challengeBody: 'Votre banque vous demande de confirmer ce paiement (3-D Secure de test).',
  approve: 'Approuver',
  decline: 'Refuser',
  securedBy: 'Paiement sécurisé par carte',
  errors: {
    number: 'Saisissez un numéro de carte valide.',
    expiry: 'Saisissez une date d’expiration future.',
    cvc: 'Saisissez le code de sécurité.',
    name: 'Le nom est trop long.',
    generic: 'Vérifiez les informations de la carte.',
    network: 'Le service de paiement est injoignable. Réessayez.',
  },
  failures: {
    card_declined: 'Votre carte a été refusée.',
    insufficient_funds: 'Le solde de votre carte est insuffisant.',
    expired_card: 'Votre carte a expiré.',
    incorrect_cvc: 'Le code de sécurité est incorrect.',
    processing_error: 'Une erreur est survenue lors du traitement de votre carte.',
    authentication_failed: 'Le paiement n’a pas été confirmé auprès de votre banque.',
    link_expired: 'Ce lien de paiement a expiré.',
  },
}

const de: Strings = {
  title: 'Mit Karte bezahlen',
  payTo: (t) => `Zahlung an ${t}`,
  savedCards: 'Gespeicherte Karten',
  useSavedCard: (b, l, m, y) => `${b} mit Endziffern ${l}, gültig bis ${m}/${y}`,
  newCard: 'Neue Karte',
  cardNumber: 'Kartennummer',
  expiry: 'Ablaufdatum',
  expiryHint: 'MM / JJ',
  cvc: 'Prüfnummer',
  nameOnCard: 'Name auf der Karte',
  saveCard: 'Karte für künftige Zahlungen speichern',
  pay: (a) => `${a} bezahlen`,
  processing: 'Zahlung wird verarbeitet …',
  succeededTitle: 'Zahlung erfolgreich',
  succeededBody: 'Vielen Dank. Ihre Zahlung ist eingegangen.',
  failedTitle: 'Zahlung fehlgeschlagen',
  expiredTitle: 'Dieser Zahlungslink ist abgelaufen',
  expiredBody: 'Kehren Sie zum Shop zurück, um die Zahlung neu zu beginnen.',
  usedTitle: 'Dieser Zahlungslink wurde bereits verwendet',
  usedBody: 'Jeder Zahlungslink funktioniert nur einmal. Kehren Sie zum Shop zurück, um eine neue Zahlung zu beginnen.',
  notFoundTitle: 'Zahlungslink nicht gefunden',
  notFoundBody: 'Prüfen Sie den Link oder kehren Sie zum Shop zurück, um die Zahlung neu zu beginnen.',
  topLevelTitle: 'Öffnen Sie diese Zahlung im Shop',
  topLevelBody: 'Diese Zahlungsseite funktioniert nur innerhalb der Website des Shops. Kehren Sie zum Shop zurück und bezahlen Sie dort.',
  challengeTitle: 'Bei Ihrer Bank bestätigen',
  challengeBody: 'Ihre Bank bittet Sie, diese Zahlung zu bestätigen (Test-3-D-Secure).',
  approve: 'Bestätigen',
  decline: 'Ablehnen',
  securedBy: 'Sichere Kartenzahlung',
  errors: {
    number: 'Geben Sie eine gültige Kartennummer ein.',
    expiry: 'Geben Sie ein Ablaufdatum in der Zukunft ein.',
    cvc: 'Geben Sie die Prüfnummer ein.',
    name: 'Der Name ist zu lang.',
    generic: 'Prüfen Sie die Kartendaten.',
    network: 'Der Zahlungsdienst ist nicht erreichbar. Versuchen Sie es erneut.',
  },
  failures: {
    card_declined: 'Ihre Karte wurde abgelehnt.',
    insufficient_funds: 'Ihre Karte ist nicht ausreichend gedeckt.',
    expired_card: 'Ihre Karte ist abgelaufen.',
    incorrect_cvc: 'Die Prüfnummer ist falsch.',
    processing_error: 'Bei der Verarbeitung Ihrer Karte ist ein Fehler aufgetreten.',
    authentication_failed: 'Die Zahlung wurde von Ihrer Bank nicht bestätigt.',
    link_expired: 'Dieser Zahlungslink ist abgelaufen.',
  },
}

export const STRINGS: Record<Lang, Strings> = { en, es, fr, de }

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
