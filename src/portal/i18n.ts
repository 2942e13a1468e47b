/**
 * The portal's words in English, Spanish, French and German. The server renders its own
 * pages (a used or expired link) in the language Accept-Language asks for, and puts that
 * language in the shell's `<html lang>`; the portal's script, which bundles this module,
 * speaks the same one. Numbers, amounts and times are formatted by Intl for the locale.
 *
 * Failure reasons are written for the tenant's staff ("The card was declined"), not for
 * the shopper as on the payment page ("Your card was declined").
 */
import type { FailureCode } from '../domain/payments/intents.js'

export type Lang = 'en' | 'es' | 'fr' | 'de'
export const LANGS: readonly Lang[] = ['en', 'es', 'fr', 'de']

/** The statuses the API shows for a payment intent. */
export type IntentStatus = 'pending' | 'processing' | 'succeeded' | 'failed'

/** What a payment's timeline lists (GET /v1/platform/payment-intents/{id}/timeline). */
export type TimelineKind =
  | 'minted'
  | 'page_opened'
  | 'confirmed'
  | 'action_required'
  | 'succeeded'
  | 'failed'
  | 'canceled'
  | 'expired'
  | 'refund_created'
  | 'refund_succeeded'
  | 'refund_failed'
  | 'event'

export interface PortalStrings {
  title: string
  nav: string
  glance: string
  payments: string
  webhooks: string
  sessionEnds: (time: string) => string
  loading: string
  loadMore: string
  noResults: string
  genericError: string
  networkError: string
  retry: string
  // Pages that grant nothing.
  usedTitle: string
  usedBody: string
  expiredTitle: string
  expiredBody: string
  notFoundTitle: string
  notFoundBody: string
  noSessionTitle: string
  noSessionBody: string
  sessionEndedTitle: string
  sessionEndedBody: string
  // At a glance.
  currency: string
  range: string
  last48h: string
  last30d: string
  succeeded: string
  failed: string
  amountCollected: string
  successRate: string
  chartLabel: (currency: string, range: string) => string
  barLabel: (when: string, succeeded: number, failed: number) => string
  noPaymentsInRange: string
  showAsTable: string
  period: string
  // Payments.
  filters: string
  status: string
  anyStatus: string
  statuses: Record<IntentStatus, string>
  userId: string
  dateFrom: string
  dateTo: string
  amountMin: string
  amountMax: string
  amountCurrency: string
  amountNeedsCurrency: string
  apply: string
  clearFilters: string
  search: string
  searchHint: string
  searchButton: string
  searchUnknown: string
  searchNotFound: (id: string) => string
  created: string
  amount: string
  user: string
  card: string
  id: string
  refundedPart: (amount: string) => string
  shown: (n: number) => string
  // Payment detail.
  backToPayments: string
  paymentTitle: (amount: string) => string
  cardOf: (brand: string, last4: string) => string
  noCard: string
  processor: string
  account: string
  failure: string
  processorSaid: string
  reasons: Record<FailureCode, string>
  expiresAt: string
  amountRefunded: string
  timeline: string
  kinds: Record<TimelineKind, string>
  eventsOfPayment: string
  noTimeline: string
  // Refunds.
  refund: string
  amountLeft: (amount: string) => string
  nothingLeft: string
  refundWhole: string
  refundPart: string
  refundAmount: string
  refundButton: string
  refundDone: (amount: string, status: string) => string
  refundStatuses: Record<'pending' | 'succeeded' | 'failed', string>
  refundExceeds: (left: string) => string
  refundInvalidAmount: string
  // Webhooks.
  endpoints: string
  noEndpoints: string
  addEndpoint: string
  url: string
  description: string
  add: string
  endpointStates: Record<'enabled' | 'disabled', string>
  disable: string
  enable: string
  rotateSecret: string
  secretOnce: string
  copy: string
  copied: string
  events: string
  noEvents: string
  deliveries: string
  showDeliveries: string
  noDeliveries: string
  deliveryStates: Record<'pending' | 'succeeded' | 'failed', string>
  statusCode: string
  time: string
  duration: string
  error: string
  attempts: string
  resend: string
  resent: (n: number) => string
  eventsFor: (payment: string) => string
  allEvents: string
}

/** A value per language, for each key of T. */
type Table<T> = { [K in keyof T]: Record<Lang, T[K]> }

/** One row per phrase, the four languages side by side (a translator sees a row at once). */
const PHRASES: Table<Omit<PortalStrings, 'reasons' | 'kinds' | 'statuses'>> = {
  title: { en: 'Payments portal', es: 'Portal de pagos', fr: 'Portail des paiements', de: 'Zahlungsportal' },
  nav: { en: 'Portal', es: 'Portal', fr: 'Portail', de: 'Portal' },
  glance: { en: 'At a glance', es: 'Resumen', fr: 'En bref', de: 'Überblick' },
  payments: { en: 'Payments', es: 'Pagos', fr: 'Paiements', de: 'Zahlungen' },
  webhooks: { en: 'Webhooks', es: 'Webhooks', fr: 'Webhooks', de: 'Webhooks' },
  sessionEnds: {
    en: (t) => `Session ends at ${t}`,
    es: (t) => `La sesión termina a las ${t}`,
    fr: (t) => `La session se termine à ${t}`,
    de: (t) => `Sitzung endet um ${t}`,
  },
  loading: { en: 'Loading…', es: 'Cargando…', fr: 'Chargement…', de: 'Wird geladen …' },
  loadMore: { en: 'Load more', es: 'Cargar más', fr: 'Charger plus', de: 'Mehr laden' },
  noResults: { en: 'No payments match.', es: 'Ningún pago coincide.', fr: 'Aucun paiement ne correspond.', de: 'Keine passenden Zahlungen.' },
  genericError: {
    en: 'Something went wrong. Try again.',
    es: 'Algo salió mal. Inténtalo de nuevo.',
    fr: 'Une erreur est survenue. Réessayez.',
    de: 'Etwas ist schiefgelaufen. Versuchen Sie es erneut.',
  },
  networkError: {
    en: 'paylink could not be reached. Try again.',
    es: 'No se pudo contactar con paylink. Inténtalo de nuevo.',
    fr: 'paylink est injoignable. Réessayez.',
    de: 'paylink ist nicht erreichbar. Versuchen Sie es erneut.',
  },
  retry: { en: 'Try again', es: 'Reintentar', fr: 'Réessayer', de: 'Erneut versuchen' },
  usedTitle: {
    en: 'This portal link was already used',
    es: 'Este enlace al portal ya se utilizó',
    fr: 'Ce lien vers le portail a déjà été utilisé',
    de: 'Dieser Portal-Link wurde bereits verwendet',
  },
  usedBody: {
    en: 'Each portal link opens the portal once. Ask for a new one.',
    es: 'Cada enlace abre el portal una sola vez. Pide uno nuevo.',
    fr: 'Chaque lien n’ouvre le portail qu’une fois. Demandez-en un nouveau.',
    de: 'Jeder Link öffnet das Portal nur einmal. Fordern Sie einen neuen an.',
  },
  expiredTitle: {
    en: 'This portal link has expired',
    es: 'Este enlace al portal ha caducado',
    fr: 'Ce lien vers le portail a expiré',
    de: 'Dieser Portal-Link ist abgelaufen',
  },
  expiredBody: { en: 'Ask for a new one.', es: 'Pide uno nuevo.', fr: 'Demandez-en un nouveau.', de: 'Fordern Sie einen neuen an.' },
  notFoundTitle: {
    en: 'Portal link not found',
    es: 'Enlace al portal no encontrado',
    fr: 'Lien vers le portail introuvable',
    de: 'Portal-Link nicht gefunden',
  },
  notFoundBody: {
    en: 'Check the link, or ask for a new one.',
    es: 'Comprueba el enlace o pide uno nuevo.',
    fr: 'Vérifiez le lien, ou demandez-en un nouveau.',
    de: 'Prüfen Sie den Link oder fordern Sie einen neuen an.',
  },
  noSessionTitle: { en: 'Open a new portal link', es: 'Abre un nuevo enlace al portal', fr: 'Ouvrez un nouveau lien vers le portail', de: 'Öffnen Sie einen neuen Portal-Link' },
  noSessionBody: {
    en: 'This window holds no portal session. Portal links work once: ask for a new one.',
    es: 'Esta ventana no tiene ninguna sesión del portal. Los enlaces funcionan una sola vez: pide uno nuevo.',
    fr: 'Cette fenêtre n’a pas de session du portail. Les liens ne fonctionnent qu’une fois : demandez-en un nouveau.',
    de: 'Dieses Fenster hat keine Portal-Sitzung. Links funktionieren nur einmal: Fordern Sie einen neuen an.',
  },
  sessionEndedTitle: { en: 'Your portal session has ended', es: 'Tu sesión del portal ha terminado', fr: 'Votre session du portail est terminée', de: 'Ihre Portal-Sitzung ist beendet' },
  sessionEndedBody: {
    en: 'Ask for a new portal link to continue.',
    es: 'Pide un nuevo enlace al portal para continuar.',
    fr: 'Demandez un nouveau lien vers le portail pour continuer.',
    de: 'Fordern Sie einen neuen Portal-Link an, um fortzufahren.',
  },
  currency: { en: 'Currency', es: 'Moneda', fr: 'Devise', de: 'Währung' },
  range: { en: 'Range', es: 'Periodo', fr: 'Période', de: 'Zeitraum' },
  last48h: { en: 'Last 48 hours', es: 'Últimas 48 horas', fr: '48 dernières heures', de: 'Letzte 48 Stunden' },
  last30d: { en: 'Last 30 days', es: 'Últimos 30 días', fr: '30 derniers jours', de: 'Letzte 30 Tage' },
  succeeded: { en: 'Succeeded', es: 'Completados', fr: 'Réussis', de: 'Erfolgreich' },
  failed: { en: 'Failed', es: 'Fallidos', fr: 'Échoués', de: 'Fehlgeschlagen' },
  amountCollected: { en: 'Amount collected', es: 'Importe cobrado', fr: 'Montant encaissé', de: 'Eingenommener Betrag' },
  successRate: { en: 'Success rate', es: 'Tasa de éxito', fr: 'Taux de réussite', de: 'Erfolgsquote' },
  chartLabel: {
    en: (c, r) => `Payments in ${c}, ${r}: succeeded and failed`,
    es: (c, r) => `Pagos en ${c}, ${r}: completados y fallidos`,
    fr: (c, r) => `Paiements en ${c}, ${r} : réussis et échoués`,
    de: (c, r) => `Zahlungen in ${c}, ${r}: erfolgreich und fehlgeschlagen`,
  },
  barLabel: {
    en: (w, s, f) => `${w}: ${s} succeeded, ${f} failed`,
    es: (w, s, f) => `${w}: ${s} completados, ${f} fallidos`,
    fr: (w, s, f) => `${w} : ${s} réussis, ${f} échoués`,
    de: (w, s, f) => `${w}: ${s} erfolgreich, ${f} fehlgeschlagen`,
  },
  noPaymentsInRange: {
    en: 'No finished payments in this range.',
    es: 'No hay pagos finalizados en este periodo.',
    fr: 'Aucun paiement terminé sur cette période.',
    de: 'Keine abgeschlossenen Zahlungen in diesem Zeitraum.',
  },
  showAsTable: { en: 'Show the figures as a table', es: 'Ver las cifras en una tabla', fr: 'Voir les chiffres en tableau', de: 'Zahlen als Tabelle anzeigen' },
  period: { en: 'Period', es: 'Periodo', fr: 'Période', de: 'Zeitraum' },
  filters: { en: 'Filters', es: 'Filtros', fr: 'Filtres', de: 'Filter' },
  status: { en: 'Status', es: 'Estado', fr: 'Statut', de: 'Status' },
  anyStatus: { en: 'Any status', es: 'Cualquier estado', fr: 'Tous les statuts', de: 'Jeder Status' },
  userId: { en: 'User id', es: 'Id de usuario', fr: 'Id utilisateur', de: 'Benutzer-ID' },
  dateFrom: { en: 'From date', es: 'Desde', fr: 'Du', de: 'Von' },
  dateTo: { en: 'To date', es: 'Hasta', fr: 'Au', de: 'Bis' },
  amountMin: { en: 'Amount from', es: 'Importe desde', fr: 'Montant minimum', de: 'Betrag ab' },
  amountMax: { en: 'Amount up to', es: 'Importe hasta', fr: 'Montant maximum', de: 'Betrag bis' },
  amountCurrency: { en: 'Currency of the amounts', es: 'Moneda de los importes', fr: 'Devise des montants', de: 'Währung der Beträge' },
  amountNeedsCurrency: {
    en: 'Choose the currency of the amounts.',
    es: 'Elige la moneda de los importes.',
    fr: 'Choisissez la devise des montants.',
    de: 'Wählen Sie die Währung der Beträge.',
  },
  apply: { en: 'Apply filters', es: 'Aplicar filtros', fr: 'Appliquer les filtres', de: 'Filter anwenden' },
  clearFilters: { en: 'Clear filters', es: 'Quitar filtros', fr: 'Effacer les filtres', de: 'Filter zurücksetzen' },
  search: { en: 'Search by id', es: 'Buscar por id', fr: 'Rechercher par id', de: 'Nach ID suchen' },
  searchHint: {
    en: 'A payment (pi_…), user (usr_…) or refund (re_…) id',
    es: 'Id de pago (pi_…), usuario (usr_…) o reembolso (re_…)',
    fr: 'Id de paiement (pi_…), d’utilisateur (usr_…) ou de remboursement (re_…)',
    de: 'ID einer Zahlung (pi_…), eines Benutzers (usr_…) oder einer Erstattung (re_…)',
  },
  searchButton: { en: 'Search', es: 'Buscar', fr: 'Rechercher', de: 'Suchen' },
  searchUnknown: {
    en: 'Enter an id that starts with pi_, usr_ or re_.',
    es: 'Escribe un id que empiece por pi_, usr_ o re_.',
    fr: 'Saisissez un id commençant par pi_, usr_ ou re_.',
    de: 'Geben Sie eine ID ein, die mit pi_, usr_ oder re_ beginnt.',
  },
  searchNotFound: {
    en: (id) => `Nothing found for ${id}.`,
    es: (id) => `No se encontró nada para ${id}.`,
    fr: (id) => `Rien trouvé pour ${id}.`,
    de: (id) => `Nichts gefunden für ${id}.`,
  },
  created: { en: 'Created', es: 'Creado', fr: 'Créé', de: 'Erstellt' },
  amount: { en: 'Amount', es: 'Importe', fr: 'Montant', de: 'Betrag' },
  user: { en: 'User', es: 'Usuario', fr: 'Utilisateur', de: 'Benutzer' },
  card: { en: 'Card', es: 'Tarjeta', fr: 'Carte', de: 'Karte' },
  id: { en: 'Id', es: 'Id', fr: 'Id', de: 'ID' },
  refundedPart: {
    en: (a) => `${a} refunded`,
    es: (a) => `${a} reembolsado`,
    fr: (a) => `${a} remboursé`,
    de: (a) => `${a} erstattet`,
  },
  shown: {
    en: (n) => `${n} shown`,
    es: (n) => `${n} mostrados`,
    fr: (n) => `${n} affichés`,
    de: (n) => `${n} angezeigt`,
  },
  backToPayments: { en: 'Back to payments', es: 'Volver a los pagos', fr: 'Retour aux paiements', de: 'Zurück zu den Zahlungen' },
  paymentTitle: {
    en: (a) => `Payment of ${a}`,
    es: (a) => `Pago de ${a}`,
    fr: (a) => `Paiement de ${a}`,
    de: (a) => `Zahlung über ${a}`,
  },
  cardOf: {
    en: (b, l) => `${b} ending in ${l}`,
    es: (b, l) => `${b} terminada en ${l}`,
    fr: (b, l) => `${b} se terminant par ${l}`,
    de: (b, l) => `${b} mit Endziffern ${l}`,
  },
  noCard: { en: 'No card yet', es: 'Aún sin tarjeta', fr: 'Pas encore de carte', de: 'Noch keine Karte' },
  processor: { en: 'Processor', es: 'Procesador', fr: 'Processeur', de: 'Zahlungsabwickler' },
  account: { en: 'Account', es: 'Cuenta', fr: 'Compte', de: 'Konto' },
  failure: { en: 'Why it failed', es: 'Motivo del fallo', fr: 'Raison de l’échec', de: 'Grund des Fehlschlags' },
  processorSaid: { en: 'The processor said', es: 'El procesador indicó', fr: 'Le processeur a indiqué', de: 'Der Zahlungsabwickler meldete' },
  expiresAt: { en: 'Link expires', es: 'El enlace caduca', fr: 'Le lien expire', de: 'Link läuft ab' },
  amountRefunded: { en: 'Refunded', es: 'Reembolsado', fr: 'Remboursé', de: 'Erstattet' },
  timeline: { en: 'Timeline', es: 'Cronología', fr: 'Chronologie', de: 'Verlauf' },
  eventsOfPayment: {
    en: 'Webhook events of this payment',
    es: 'Eventos de webhook de este pago',
    fr: 'Événements webhook de ce paiement',
    de: 'Webhook-Ereignisse dieser Zahlung',
  },
  noTimeline: { en: 'Nothing has happened yet.', es: 'Aún no ha pasado nada.', fr: 'Rien ne s’est encore passé.', de: 'Bisher ist nichts geschehen.' },
  refund: { en: 'Refund', es: 'Reembolso', fr: 'Remboursement', de: 'Erstattung' },
  amountLeft: {
    en: (a) => `${a} left to refund`,
    es: (a) => `Quedan ${a} por reembolsar`,
    fr: (a) => `${a} restant à rembourser`,
    de: (a) => `${a} noch erstattbar`,
  },
  nothingLeft: {
    en: 'Nothing is left to refund.',
    es: 'No queda nada por reembolsar.',
    fr: 'Il ne reste rien à rembourser.',
    de: 'Es ist nichts mehr zu erstatten.',
  },
  refundWhole: { en: 'All that is left', es: 'Todo lo que queda', fr: 'Tout le restant', de: 'Den gesamten Rest' },
  refundPart: { en: 'Part of it', es: 'Una parte', fr: 'Une partie', de: 'Einen Teil' },
  refundAmount: { en: 'Amount to refund', es: 'Importe a reembolsar', fr: 'Montant à rembourser', de: 'Zu erstattender Betrag' },
  refundButton: { en: 'Refund', es: 'Reembolsar', fr: 'Rembourser', de: 'Erstatten' },
  refundDone: {
    en: (a, s) => `Refund of ${a}: ${s}.`,
    es: (a, s) => `Reembolso de ${a}: ${s}.`,
    fr: (a, s) => `Remboursement de ${a} : ${s}.`,
    de: (a, s) => `Erstattung von ${a}: ${s}.`,
  },
  refundStatuses: {
    en: { pending: 'pending', succeeded: 'succeeded', failed: 'failed' },
    es: { pending: 'pendiente', succeeded: 'completado', failed: 'fallido' },
    fr: { pending: 'en attente', succeeded: 'réussi', failed: 'échoué' },
    de: { pending: 'ausstehend', succeeded: 'erfolgreich', failed: 'fehlgeschlagen' },
  },
  refundExceeds: {
    en: (l) => `That is more than what is left: only ${l} can still be refunded.`,
    es: (l) => `Es más de lo que queda: solo se pueden reembolsar ${l}.`,
    fr: (l) => `C’est plus que le restant : seuls ${l} peuvent encore être remboursés.`,
    de: (l) => `Das ist mehr als der Rest: Nur noch ${l} können erstattet werden.`,
  },
  refundInvalidAmount: {
    en: 'Enter an amount greater than zero.',
    es: 'Escribe un importe mayor que cero.',
    fr: 'Saisissez un montant supérieur à zéro.',
    de: 'Geben Sie einen Betrag größer als null ein.',
  },
  endpoints: { en: 'Endpoints', es: 'Endpoints', fr: 'Points de terminaison', de: 'Endpunkte' },
  noEndpoints: { en: 'No endpoints yet.', es: 'Aún no hay endpoints.', fr: 'Aucun point de terminaison.', de: 'Noch keine Endpunkte.' },
  addEndpoint: { en: 'Add an endpoint', es: 'Añadir un endpoint', fr: 'Ajouter un point de terminaison', de: 'Endpunkt hinzufügen' },
  url: { en: 'URL', es: 'URL', fr: 'URL', de: 'URL' },
  description: { en: 'Description (optional)', es: 'Descripción (opcional)', fr: 'Description (facultative)', de: 'Beschreibung (optional)' },
  add: { en: 'Add', es: 'Añadir', fr: 'Ajouter', de: 'Hinzufügen' },
  endpointStates: {
    en: { enabled: 'Enabled', disabled: 'Disabled' },
    es: { enabled: 'Activo', disabled: 'Desactivado' },
    fr: { enabled: 'Actif', disabled: 'Désactivé' },
    de: { enabled: 'Aktiv', disabled: 'Deaktiviert' },
  },
  disable: { en: 'Disable', es: 'Desactivar', fr: 'Désactiver', de: 'Deaktivieren' },
  enable: { en: 'Enable', es: 'Activar', fr: 'Activer', de: 'Aktivieren' },
  rotateSecret: { en: 'Rotate secret', es: 'Cambiar secreto', fr: 'Renouveler le secret', de: 'Geheimnis erneuern' },
  secretOnce: {
    en: 'The signing secret, shown only now:',
    es: 'El secreto de firma, que solo se muestra ahora:',
    fr: 'Le secret de signature, affiché uniquement maintenant :',
    de: 'Das Signaturgeheimnis, nur jetzt angezeigt:',
  },
  copy: { en: 'Copy', es: 'Copiar', fr: 'Copier', de: 'Kopieren' },
  copied: { en: 'Copied', es: 'Copiado', fr: 'Copié', de: 'Kopiert' },
  events: { en: 'Events', es: 'Eventos', fr: 'Événements', de: 'Ereignisse' },
  noEvents: { en: 'No events yet.', es: 'Aún no hay eventos.', fr: 'Aucun événement.', de: 'Noch keine Ereignisse.' },
  deliveries: { en: 'Deliveries', es: 'Entregas', fr: 'Livraisons', de: 'Zustellungen' },
  showDeliveries: { en: 'Deliveries', es: 'Entregas', fr: 'Livraisons', de: 'Zustellungen' },
  noDeliveries: {
    en: 'No deliveries (no endpoint was enabled).',
    es: 'Sin entregas (no había ningún endpoint activo).',
    fr: 'Aucune livraison (aucun point de terminaison actif).',
    de: 'Keine Zustellungen (kein Endpunkt war aktiv).',
  },
  deliveryStates: {
    en: { pending: 'Pending', succeeded: 'Delivered', failed: 'Failed' },
    es: { pending: 'Pendiente', succeeded: 'Entregado', failed: 'Fallido' },
    fr: { pending: 'En attente', succeeded: 'Livré', failed: 'Échoué' },
    de: { pending: 'Ausstehend', succeeded: 'Zugestellt', failed: 'Fehlgeschlagen' },
  },
  statusCode: { en: 'Status code', es: 'Código de estado', fr: 'Code de statut', de: 'Statuscode' },
  time: { en: 'Time', es: 'Hora', fr: 'Heure', de: 'Zeit' },
  duration: { en: 'Duration', es: 'Duración', fr: 'Durée', de: 'Dauer' },
  error: { en: 'Error', es: 'Error', fr: 'Erreur', de: 'Fehler' },
  attempts: { en: 'Attempts', es: 'Intentos', fr: 'Tentatives', de: 'Versuche' },
  resend: { en: 'Resend', es: 'Reenviar', fr: 'Renvoyer', de: 'Erneut senden' },
  resent: {
    en: (n) => `Queued again to ${n} endpoint(s).`,
    es: (n) => `Reenviado a ${n} endpoint(s).`,
    fr: (n) => `Renvoyé vers ${n} point(s) de terminaison.`,
    de: (n) => `Erneut an ${n} Endpunkt(e) eingeplant.`,
  },
  eventsFor: {
    en: (p) => `Events of ${p}`,
    es: (p) => `Eventos de ${p}`,
    fr: (p) => `Événements de ${p}`,
    de: (p) => `Ereignisse von ${p}`,
  },
  allEvents: { en: 'All events', es: 'Todos los eventos', fr: 'Tous les événements', de: 'Alle Ereignisse' },
}

const STATUSES: Table<Record<IntentStatus, string>> = {
  pending: { en: 'Pending', es: 'Pendiente', fr: 'En attente', de: 'Ausstehend' },
  processing: { en: 'Processing', es: 'En proceso', fr: 'En cours', de: 'In Bearbeitung' },
  succeeded: { en: 'Succeeded', es: 'Completado', fr: 'Réussi', de: 'Erfolgreich' },
  failed: { en: 'Failed', es: 'Fallido', fr: 'Échoué', de: 'Fehlgeschlagen' },
}

const KINDS: Table<Record<TimelineKind, string>> = {
  minted: { en: 'Link minted', es: 'Enlace creado', fr: 'Lien créé', de: 'Link erstellt' },
  page_opened: { en: 'Page opened', es: 'Página abierta', fr: 'Page ouverte', de: 'Seite geöffnet' },
  confirmed: { en: 'Card submitted', es: 'Tarjeta enviada', fr: 'Carte soumise', de: 'Karte übermittelt' },
  action_required: { en: '3-D Secure asked', es: '3-D Secure solicitado', fr: '3-D Secure demandé', de: '3-D Secure angefordert' },
  succeeded: { en: 'Succeeded', es: 'Completado', fr: 'Réussi', de: 'Erfolgreich' },
  failed: { en: 'Failed', es: 'Fallido', fr: 'Échoué', de: 'Fehlgeschlagen' },
  canceled: { en: 'Canceled', es: 'Cancelado', fr: 'Annulé', de: 'Storniert' },
  expired: { en: 'Link expired', es: 'Enlace caducado', fr: 'Lien expiré', de: 'Link abgelaufen' },
  refund_created: { en: 'Refund asked', es: 'Reembolso solicitado', fr: 'Remboursement demandé', de: 'Erstattung angefordert' },
  refund_succeeded: { en: 'Refund succeeded', es: 'Reembolso completado', fr: 'Remboursement réussi', de: 'Erstattung erfolgreich' },
  refund_failed: { en: 'Refund failed', es: 'Reembolso fallido', fr: 'Remboursement échoué', de: 'Erstattung fehlgeschlagen' },
  event: { en: 'Webhook event', es: 'Evento de webhook', fr: 'Événement webhook', de: 'Webhook-Ereignis' },
}

/** Each failure code's plain reason, for the tenant's staff. */
const REASONS: Table<Record<FailureCode, string>> = {
  card_declined: { en: 'The card was declined.', es: 'La tarjeta fue rechazada.', fr: 'La carte a été refusée.', de: 'Die Karte wurde abgelehnt.' },
  insufficient_funds: {
    en: 'The card has insufficient funds.',
    es: 'La tarjeta no tiene fondos suficientes.',
    fr: 'Le solde de la carte est insuffisant.',
    de: 'Die Karte ist nicht ausreichend gedeckt.',
  },
  expired_card: { en: 'The card has expired.', es: 'La tarjeta ha caducado.', fr: 'La carte a expiré.', de: 'Die Karte ist abgelaufen.' },
  incorrect_cvc: { en: 'The security code was wrong.', es: 'El código de seguridad era incorrecto.', fr: 'Le code de sécurité était erroné.', de: 'Die Prüfnummer war falsch.' },
  incorrect_number: { en: 'The card number was wrong.', es: 'El número de tarjeta era incorrecto.', fr: 'Le numéro de carte était erroné.', de: 'Die Kartennummer war falsch.' },
  lost_or_stolen: {
    en: 'The card is reported lost or stolen.',
    es: 'La tarjeta consta como perdida o robada.',
    fr: 'La carte est déclarée perdue ou volée.',
    de: 'Die Karte ist als verloren oder gestohlen gemeldet.',
  },
  fraudulent: {
    en: 'The bank suspected fraud.',
    es: 'El banco sospechó de un fraude.',
    fr: 'La banque a soupçonné une fraude.',
    de: 'Die Bank vermutete Betrug.',
  },
  processing_error: {
    en: 'The processor had an error.',
    es: 'El procesador tuvo un error.',
    fr: 'Le processeur a rencontré une erreur.',
    de: 'Beim Zahlungsabwickler ist ein Fehler aufgetreten.',
  },
  authentication_failed: {
    en: 'The cardholder did not pass 3-D Secure.',
    es: 'El titular no superó 3-D Secure.',
    fr: 'Le titulaire n’a pas validé 3-D Secure.',
    de: 'Der Karteninhaber hat 3-D Secure nicht bestanden.',
  },
  link_expired: {
    en: 'The link expired before anyone paid.',
    es: 'El enlace caducó sin que nadie pagara.',
    fr: 'Le lien a expiré sans paiement.',
    de: 'Der Link lief ab, ohne dass bezahlt wurde.',
  },
}

/** Column `lang` of a table. */
const column = <T>(table: Table<T>, lang: Lang): T => Object.fromEntries(Object.entries(table).map(([key, byLang]) => [key, (byLang as Record<Lang, unknown>)[lang]])) as T

/** The portal's strings in one language. */
export const portalStrings = (lang: Lang): PortalStrings => ({ ...column(PHRASES, lang), statuses: column(STATUSES, lang), kinds: column(KINDS, lang), reasons: column(REASONS, lang) })

/** Whether a language tag's primary subtag is one of ours. */
export const langOf = (tag: string): Lang | undefined => {
  const primary = tag.split('-')[0]?.toLowerCase()
  return LANGS.find((l) => l === primary)
}
