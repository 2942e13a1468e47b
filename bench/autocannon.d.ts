// autocannon ships no types; this is the little the bench uses.
declare module 'autocannon' {
  interface Instance {
    stop(): void
    /** Every response, with its time from the request's write to the response's end, in ms. */
    on(event: 'response', listener: (client: unknown, statusCode: number, resBytes: number, responseTimeMs: number) => void): void
  }
  function autocannon(opts: Record<string, unknown>, cb: (err: Error | null, result: any) => void): Instance
  export default autocannon
}
