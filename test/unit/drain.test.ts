/**
 * A closing server lets every connection go (src/http/drain.ts): a request in flight is
 * answered and its kept-alive connection then ends, a socket that never sent a byte ends at
 * once, a half-received request is answered; what is left after the grace period is cut.
 */
import http from 'node:http'
import net from 'node:net'
import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { trackConnections } from '../../src/http/drain.js'

const servers: http.Server[] = []
afterEach(() => {
  for (const s of servers.splice(0)) s.closeAllConnections()
})

async function serve(handler: http.RequestListener) {
  const server = http.createServer(handler)
  server.keepAliveTimeout = 72_000 // Fastify's default: long enough to hold a shutdown open
  const drain = trackConnections(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  servers.push(server)
  const closed = () => new Promise<number>((resolve) => {
    const t = Date.now()
    server.close(() => resolve(Date.now() - t))
  })
  return { port: (server.address() as AddressInfo).port, server, drain, closed }
}

/** A client connection to `port` that has sent `text` (nothing when empty). */
async function socketTo(port: number, text = '') {
  const socket = net.connect(port, '127.0.0.1')
  socket.on('error', () => {})
  let received = ''
  socket.on('data', (d) => (received += d.toString('latin1')))
  const ended = new Promise<void>((resolve) => socket.once('close', () => resolve()))
  await new Promise<void>((r) => socket.once('connect', () => r()))
  if (text) socket.write(text)
  return { socket, ended, received: () => received }
}

describe('drain: a closing server ends its connections', () => {
  it('answers the request in flight, then ends its kept-alive connection; ends an unused socket at once', async () => {
    let answer: (() => void) | undefined
    const s = await serve((_req, res) => {
      answer = () => res.end('ok')
    })
    const busy = await socketTo(s.port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n\r\n')
    const unused = await socketTo(s.port)
    await expect.poll(() => answer).toBeDefined()

    const closed = s.closed()
    s.drain(10_000)
    await unused.ended // at once, while the request is still in flight
    expect(busy.socket.destroyed).toBe(false)
    answer!()
    await busy.ended
    expect(busy.received()).toMatch(/^HTTP\/1\.1 200 [\s\S]*ok$/)
    expect(await closed).toBeLessThan(2_000)
  })

  it('answers a request whose headers were still arriving', async () => {
    const s = await serve((_req, res) => res.end('late'))
    const half = await socketTo(s.port, 'GET / HTTP/1.1\r\nHost: x\r\n')
    await new Promise((r) => setTimeout(r, 50))
    const closed = s.closed()
    s.drain(10_000)
    await new Promise((r) => setTimeout(r, 250))
    expect(half.socket.destroyed).toBe(false)
    half.socket.write('\r\n')
    await half.ended
    expect(half.received()).toMatch(/^HTTP\/1\.1 200 [\s\S]*late$/)
    await closed
  })

  it('cuts what is still open when the grace period ends', async () => {
    const s = await serve(() => {}) // never answers
    const stuck = await socketTo(s.port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n')
    await new Promise((r) => setTimeout(r, 50))
    const closed = s.closed()
    s.drain(300)
    await stuck.ended
    expect(await closed).toBeLessThan(1_000)
  })
})
