// autocannon ships no types; this is the little the bench uses.
declare module 'autocannon' {
  function autocannon(opts: Record<string, unknown>, cb: (err: Error | null, result: any) => void): { stop(): void }
  export default autocannon
}
