/**
 * The payment state machines, as data: every state an intent (or a refund) can be in, and
 * every transition between them. Each transition is performed by exactly one repository
 * method (src/storage/repositories/payment-intents.ts), as one conditional update whose
 * `WHERE status = ANY(…)` comes from `from` below, so the table here is what the database
 * enforces. The update reports whether it won: of two racing transitions out of one state,
 * exactly one does.
 *
 *   pending ──start──▶ processing ──require_action──▶ requires_action
 *      │                 │   ▲  │                          │ │
 *      │                 │   └──┼──────────resume──────────┘ │
 *      │                 │      └─await_processor─▶ awaiting_processor
 *      │                 ▼                                    │
 *      └──expire──▶   failed ◀───────────fail────────────────┤
 *                     succeeded ◀────────succeed──────────────┘
 *   (`succeed` and `fail` leave processing, requires_action and awaiting_processor.)
 *
 * The public API knows four statuses (SPEC "Links and payment intents"): `pending`,
 * `processing`, `succeeded`, `failed`. Waiting for 3-D Secure (`requires_action`) and
 * waiting for the processor to say (`awaiting_processor`, an asynchronous processor's
 * `pending`) are `processing` to a tenant: `publicStatus` maps them, and a listing filtered
 * by `processing` finds all three (`statesOf`).
 */
import { AppError } from '../shared/errors.js'

export const INTENT_STATES = ['pending', 'processing', 'requires_action', 'awaiting_processor', 'succeeded', 'failed'] as const
export type IntentState = (typeof INTENT_STATES)[number]

/** What a tenant sees. */
export type IntentStatus = 'pending' | 'processing' | 'succeeded' | 'failed'

export interface Transition<S extends string> {
  readonly from: readonly S[]
  readonly to: S
}

export const INTENT_TRANSITIONS = {
  /** The one confirm that wins takes the intent to the processor. */
  start: { from: ['pending'], to: 'processing' },
  /** The processor asks the cardholder to authenticate (3-D Secure). */
  require_action: { from: ['processing'], to: 'requires_action' },
  /** The cardholder is back from authenticating; the processor is asked to finish. */
  resume: { from: ['requires_action'], to: 'processing' },
  /** The processor will tell the outcome later (webhook or lookup). */
  await_processor: { from: ['processing'], to: 'awaiting_processor' },
  succeed: { from: ['processing', 'requires_action', 'awaiting_processor'], to: 'succeeded' },
  fail: { from: ['processing', 'requires_action', 'awaiting_processor'], to: 'failed' },
  /** The link's time ran out before a card was confirmed. */
  expire: { from: ['pending'], to: 'failed' },
} as const satisfies Record<string, Transition<IntentState>>

export type IntentEvent = keyof typeof INTENT_TRANSITIONS

export const REFUND_STATES = ['pending', 'succeeded', 'failed'] as const
export type RefundState = (typeof REFUND_STATES)[number]

/**
 * A refund is reserved `pending` before the processor is called, then settles. A refund the
 * processor reported succeeded can still fail later (Stripe: `refund.failed` after
 * `succeeded`, when the card's account is closed; Adyen: `REFUND_FAILED` after `REFUND`):
 * the money was not given back after all, so it counts again as refundable.
 */
export const REFUND_TRANSITIONS = {
  succeed: { from: ['pending'], to: 'succeeded' },
  fail: { from: ['pending', 'succeeded'], to: 'failed' },
} as const satisfies Record<string, Transition<RefundState>>

export type RefundEvent = keyof typeof REFUND_TRANSITIONS

/** Asking a machine for a transition its table does not have. A bug, never a race. */
export class IllegalTransition extends Error {
  constructor(
    readonly from: string,
    readonly event: string,
  ) {
    super(`no transition ${event} from ${from}`)
    this.name = 'IllegalTransition'
  }
}

/** The state `event` leads to from `from`; throws IllegalTransition when the table has no such move. */
export function nextState<S extends string, E extends string>(table: Record<E, Transition<S>>, from: S, event: E): S {
  const t = table[event]
  if (!t || !t.from.includes(from)) throw new IllegalTransition(from, event)
  return t.to
}

/** Whether `event` may leave `from`. */
export const can = <S extends string, E extends string>(table: Record<E, Transition<S>>, from: S, event: E) => table[event]?.from.includes(from) ?? false

/** Every pair of states the table connects (for the unit test and the README's drawing). */
export const edges = <S extends string, E extends string>(table: Record<E, Transition<S>>) =>
  (Object.entries(table) as [E, Transition<S>][]).flatMap(([event, t]) => t.from.map((from) => ({ from, event, to: t.to })))

/** Whether a state is an outcome: nothing leaves it. */
export const isFinal = (s: IntentState): s is 'succeeded' | 'failed' => s === 'succeeded' || s === 'failed'

export const publicStatus = (s: IntentState): IntentStatus => (s === 'requires_action' || s === 'awaiting_processor' ? 'processing' : s)

/** The states a public status stands for (a listing's filter). */
export const statesOf = (status: IntentStatus): IntentState[] => INTENT_STATES.filter((s) => publicStatus(s) === status)

/** For a caller that found the intent in a state the move cannot leave: a domain error the page understands. */
export const notNow = (message = 'This payment is already being processed or is finished.') => new AppError('payment_in_progress', message)
