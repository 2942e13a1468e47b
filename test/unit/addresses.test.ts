/**
 * The webhook address rules (src/domain/webhooks/addresses.ts): which addresses a delivery
 * may not reach, IPv6 forms that carry an IPv4 address judged by that address.
 */
import { describe, expect, it } from 'vitest'
import { isBlockedAddress, resolvesToBlocked } from '../../src/domain/webhooks/addresses.js'

describe('isBlockedAddress', () => {
  it.each(['127.0.0.1', '10.1.2.3', '169.254.169.254', '::1', '::', 'fd00::1', 'fe80::1', '::ffff:10.0.0.1', '::ffff:a00:1', '::10.0.0.1', '64:ff9b::a00:1', '64:ff9b::192.168.0.1', '2002:7f00:1::', '2002:a9fe:a9fe::1', 'not-an-ip'])(
    'blocks %s',
    (address) => expect(isBlockedAddress(address)).toBe(true),
  )

  it.each(['8.8.8.8', '2606:4700::1111', '64:ff9b::808:808', '2002:808:808::1', '::ffff:8.8.8.8', '2001:db8::1'])('lets %s through', (address) => expect(isBlockedAddress(address)).toBe(false))
})

describe('resolvesToBlocked', () => {
  it('refuses a name that resolves to loopback now, and lets a name that does not resolve through (judged on delivery)', async () => {
    expect(await resolvesToBlocked('http://localhost/hooks')).toBe(true)
    expect(await resolvesToBlocked('https://does-not-resolve.invalid/hooks')).toBe(false)
    expect(await resolvesToBlocked('https://93.184.216.34/hooks')).toBe(false)
  })
})
