/**
 * Letting an HTTP server's connections go when it closes, so that shutdown ends.
 *
 * Node's `server.close()` waits for every open connection but ends only those idle at that
 * instant. Two kinds outlive it: a socket a browser opened ahead of need and never used (a
 * preconnect; Node counts it as a request being received), and a kept-alive connection whose
 * request was in flight, which stays open after its answer until the keep-alive timeout
 * (72 s in Fastify) unless the client happens to ask again. Either holds shutdown open.
 *
 * `trackConnections(server)` before listening returns `drain(graceMs)`, called once the server
 * is closing: every 100 ms it ends the idle connections and those that never sent a byte; a
 * request in flight (or half received) is answered first, then its connection ends; after
 * `graceMs` whatever is left is cut.
 */
import type { Server } from 'node:http'
import type { Socket } from 'node:net'

const SWEEP_MS = 100

export function trackConnections(server: Server): (graceMs: number) => void {
  const sockets = new Set<Socket>()
  server.on('connection', (socket: Socket) => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
  })
  return (graceMs) => {
    const deadline = Date.now() + graceMs
    const sweep = () => {
      server.closeIdleConnections()
      for (const socket of sockets) if (socket.bytesRead === 0) socket.destroy()
      if (Date.now() >= deadline) server.closeAllConnections()
      // Fastify closes its server a moment after close() is called: until then, new connections may come.
      else if (sockets.size || server.listening) setTimeout(sweep, SWEEP_MS).unref()
    }
    sweep()
  }
}
