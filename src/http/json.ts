/**
 * The JSON body parser. Like Fastify's own it refuses `__proto__` and `constructor`
 * keys, and it keeps money exact: a number literal that a double cannot hold exactly
 * (`12.300000000000000001`, `1e400`) is handed on as its original text instead of a
 * rounded double. Amount fields then judge what the client actually wrote; fields that
 * want a number refuse the string with a plain 422 rather than silently rounding.
 * A body nested deeper than MAX_DEPTH is refused (422) before anything walks it: validation
 * and serialisation recurse, and 64 KB of `{"a":` overflows the stack (a 500 otherwise).
 */
import sjson from 'secure-json-parse'
import { sameDecimal } from '../domain/shared/money.js'
import { AppError } from '../domain/shared/errors.js'

/** How deep objects and arrays may nest in a request body. */
export const MAX_DEPTH = 64

/** Whether the text nests objects and arrays deeper than `max` (strings skipped). */
function nestsDeeperThan(text: string, max: number): boolean {
  let depth = 0
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 34 /* " */) {
      for (i++; i < text.length; i++) {
        const d = text.charCodeAt(i)
        if (d === 92 /* \ */) i++
        else if (d === 34) break
      }
    } else if (c === 123 /* { */ || c === 91 /* [ */) {
      if (++depth > max) return true
    } else if (c === 125 /* } */ || c === 93 /* ] */) depth--
  }
  return false
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y

/** Rewrites inexact number literals as strings; leaves everything else byte for byte. */
export function quoteInexactNumbers(text: string): string {
  let out = ''
  let last = 0
  let i = 0
  while (i < text.length) {
    const c = text.charCodeAt(i)
    if (c === 34 /* " */) {
      i++
      while (i < text.length) {
        const d = text.charCodeAt(i)
        if (d === 92 /* \ */) i += 2
        else if (d === 34) break
        else i++
      }
      i++
      continue
    }
    if (c === 45 /* - */ || (c >= 48 && c <= 57)) {
      NUMBER.lastIndex = i
      const m = NUMBER.exec(text)
      if (!m) {
        i++
        continue
      }
      const literal = m[0]
      const n = Number(literal)
      if (!Number.isFinite(n) || !sameDecimal(literal, String(n))) {
        out += text.slice(last, i) + '"' + literal + '"'
        last = i + literal.length
      }
      i += literal.length
      continue
    }
    i++
  }
  return last === 0 ? text : out + text.slice(last)
}

/** Parses a request body; throws SyntaxError on bad JSON or a forbidden key, a 422 on nesting deeper than MAX_DEPTH. */
export function parseJsonBody(text: string): unknown {
  if (nestsDeeperThan(text, MAX_DEPTH)) {
    throw new AppError('validation_error', 'The body is nested too deeply.', [{ field: 'body', issue: `must not nest objects and arrays more than ${MAX_DEPTH} deep` }])
  }
  try {
    return sjson.parse(quoteInexactNumbers(text), undefined, { protoAction: 'error', constructorAction: 'error' })
  } catch (err) {
    // Valid JSON with a key that would reach an object's prototype: a field no request has, named as such.
    if (err instanceof SyntaxError && /forbidden prototype property/.test(err.message)) {
      const field = /"__proto__"\s*:/.test(text) ? '__proto__' : 'constructor.prototype'
      throw new AppError('validation_error', `${field} is not a known field.`, [{ field, issue: 'is not a known field' }])
    }
    throw err
  }
}
