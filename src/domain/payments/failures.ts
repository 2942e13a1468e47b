/** Plain-language reasons for each failure code, as the API's `failure_message` gives them. */
import type { FailureCode } from './intents.js'

export const FAILURE_MESSAGES: Record<FailureCode, string> = {
  card_declined: 'The card was declined.',
  insufficient_funds: 'The card has insufficient funds.',
  expired_card: 'The card has expired.',
  incorrect_cvc: 'The card’s security code is incorrect.',
  incorrect_number: 'The card number is incorrect.',
  lost_or_stolen: 'The card was reported lost or stolen.',
  fraudulent: 'The payment was declined as suspected fraud.',
  processing_error: 'An error occurred while processing the card.',
  authentication_failed: 'The payment was not authenticated by the cardholder.',
  link_expired: 'The payment link expired before the payment was made.',
}
