/**
 * Webhook URLs may not reach loopback, private, link-local or metadata addresses (SSRF),
 * unless ALLOW_PRIVATE_WEBHOOK_URLS=true. The check runs when an endpoint is saved
 * (`urlProblem` on the URL, then `resolvesToBlocked` on what its name resolves to now:
 * `localhost.`, the machine's own host names) and on every address DNS returns when a
 * delivery connects (the outbox's address guard, with `isBlockedAddress`), so a name that
 * later resolves to 10.0.0.1 is refused too. IPv6 addresses that carry an IPv4 one (NAT64
 * `64:ff9b::/96`, 6to4 `2002::/16`, IPv4-compatible `::/96`, IPv4-mapped `::ffff:0:0/96`) are
 * judged by the IPv4 address they carry.
 */
import { lookup } from 'node:dns/promises'
import { BlockList, isIP } from 'node:net'
import { hostname } from 'node:os'

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

/** An IPv6 address as its 8 groups (undefined when it is not one). */
function groupsOf(address: string): number[] | undefined {
  let text = address.toLowerCase().replace(/%.*$/, '')
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (dotted) {
    const [a, b, c, d] = dotted.slice(1).map(Number) as [number, number, number, number]
    text = `${text.slice(0, dotted.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const [head = '', tail] = text.split('::')
  const part = (s: string) => (s ? s.split(':').map((g) => parseInt(g, 16)) : [])
  const front = part(head)
  const back = tail === undefined ? [] : part(tail)
  const zeros = tail === undefined ? 0 : 8 - front.length - back.length
  const groups = [...front, ...Array<number>(zeros).fill(0), ...back]
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined
}

const ipv4Of = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`

/** The IPv4 address an IPv6 one carries (IPv4-mapped, IPv4-compatible, NAT64, 6to4), if any. */
function embeddedIpv4(address: string): string | undefined {
  const g = groupsOf(address)
  if (!g) return undefined
  const zeroTo = (n: number) => g.slice(0, n).every((x) => x === 0)
  if (zeroTo(5) && (g[5] === 0xffff || g[5] === 0) && (g[6] !== 0 || g[7]! > 1)) return ipv4Of(g[6]!, g[7]!) // ::ffff:a.b.c.d and ::a.b.c.d (not :: or ::1)
  if (g[0] === 0x64 && g[1] === 0xff9b && g.slice(2, 6).every((x) => x === 0)) return ipv4Of(g[6]!, g[7]!) // NAT64 64:ff9b::/96
  if (g[0] === 0x2002) return ipv4Of(g[1]!, g[2]!) // 6to4 2002:AABB:CCDD::/48
  return undefined
}

/** Whether a webhook may not reach this address; anything that is not an IP address may not. */
export function isBlockedAddress(address: string): boolean {
  const family = isIP(address)
  if (family === 4) return blocked.check(address, 'ipv4')
  if (family === 6) {
    const v4 = embeddedIpv4(address)
    if (v4) return blocked.check(v4, 'ipv4')
    return blocked.check(address, 'ipv6')
  }
  return true
}

/** This machine's own names (a URL naming them reaches paylink's own host). */
const OWN_NAMES = new Set([hostname().toLowerCase()].filter(Boolean))

/**
 * Whether the URL's host name resolves, now, to an address a webhook may not reach. A name
 * that does not resolve (yet) passes here: the connect-time guard judges it on delivery.
 * Answers within `timeoutMs`.
 */
export async function resolvesToBlocked(raw: string, timeoutMs = 2000): Promise<boolean> {
  const host = new URL(raw).hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase()
  if (isIP(host)) return false
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)))
  try {
    const found = await Promise.race([lookup(host, { all: true }).catch(() => undefined), late])
    return !!found?.some((a) => isBlockedAddress(a.address))
  } finally {
    clearTimeout(timer)
  }
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
  // A name with its root's trailing dot (`localhost.`) is the same name.
  const host = u.hostname.replace(/^\[|\]$/g, '').replace(/\.$/, '').toLowerCase()
  if (METADATA_HOSTS.has(host) || OWN_NAMES.has(host) || host.endsWith('.localhost') || host.endsWith('.internal')) return 'must not point at a local, private or metadata address'
  if (isIP(host) && isBlockedAddress(host)) return 'must not point at a local, private or metadata address'
  return undefined
}
