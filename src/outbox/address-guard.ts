/**
 * The connection's side of the address rule (src/domain/webhooks/addresses.ts): every
 * address DNS returns for a webhook URL is checked when a delivery connects, so a name that
 * resolves to a private address after the endpoint was saved is refused too.
 */
import dns from 'node:dns'
import { isBlockedAddress } from '../domain/webhooks/addresses.js'

/** A dns.lookup that refuses blocked addresses: passed to http.request, so it guards the connection itself. */
export function guardedLookup(allowPrivate: boolean) {
  return (hostname: string, options: dns.LookupOptions, callback: (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void) => {
    dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err) return callback(err, '', 0)
      const list = addresses as dns.LookupAddress[]
      const bad = !allowPrivate && list.find((a) => isBlockedAddress(a.address))
      if (bad) return callback(Object.assign(new Error(`refused: ${hostname} resolves to a private address`), { code: 'EPRIVATE' }), '', 0)
      if (options.all) return callback(null, list)
      const first = list[0]!
      callback(null, first.address, first.family)
    })
  }
}
