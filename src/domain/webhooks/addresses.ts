/**
 * Webhook URLs may not reach loopback, private, link-local or metadata addresses (SSRF),
 * unless ALLOW_PRIVATE_WEBHOOK_URLS=true. The check runs on the URL when an endpoint is
 * saved (`urlProblem`) and on every address DNS returns when a delivery connects (the
 * outbox's address guard, with `isBlockedAddress`), so a name that later resolves to
 * 10.0.0.1 is refused too.
 */
import { BlockList, isIP } from 'node:net'

const blocked = new BlockList()
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16], // link-local, including 169.254.169.254 (cloud metadata)
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  blocked.addSubnet(net, prefix, 'ipv4')
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7], // unique local
  ['fe80::', 10], // link-local
  ['ff00::', 8],
  ['fd00:ec2::254', 128], // AWS metadata over IPv6
] as const)
  blocked.addSubnet(net, prefix, 'ipv6')

const METADATA_HOSTS = new Set(['metadata.google.internal', 'metadata', 'instance-data', 'localhost'])

/** Whether a webhook may not reach this address; anything that is not an IP address may not. */
export function isBlockedAddress(address: string): boolean {
  const family = isIP(address)
  if (family === 4) return blocked.check(address, 'ipv4')
  if (family === 6) {
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address)
    if (mapped) return blocked.check(mapped[1]!, 'ipv4')
    return blocked.check(address, 'ipv6')
  }
  return true
}

/** A reason the URL may not be a webhook endpoint, or undefined when it may. */
export function urlProblem(raw: string, allowPrivate: boolean): string | undefined {
  let u: URL
  try {
    u = new URL(raw)
  } catch {
    return 'must be an absolute http(s) URL'
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return 'must be an http(s) URL'
  if (u.username || u.password) return 'must not carry credentials'
  if (u.hash) return 'must not have a fragment'
  if (allowPrivate) return undefined
  const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase()
  if (METADATA_HOSTS.has(host) || host.endsWith('.localhost') || host.endsWith('.internal')) return 'must not point at a local, private or metadata address'
  if (isIP(host) && isBlockedAddress(host)) return 'must not point at a local, private or metadata address'
  return undefined
}
