/**
 * Strict validation. Fastify's defaults strip unknown properties and coerce types; here
 * a body is taken exactly as sent: an unknown field or a wrong type is a 422 naming it.
 * Query strings and path parameters arrive as text, so only they are coerced
 * ("?limit=10" is the number 10); unknown query parameters are refused all the same.
 */
import { Ajv, type ErrorObject } from 'ajv'
import addFormatsModule from 'ajv-formats'
import type { FastifySchemaValidationError } from 'fastify/types/schema.js'
import type { FieldIssue } from '../../domain/shared/errors.js'

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv

const make = (coerceTypes: boolean) =>
  addFormats(new Ajv({ removeAdditional: false, coerceTypes, useDefaults: false, allErrors: true, strict: false, allowUnionTypes: true }))

const bodyAjv = make(false)
const textAjv = make(true)

/** A UTF-16 surrogate without its pair: not Unicode text, and the embedded database cannot encode it (a 500 otherwise). */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/

/** Either character class that needs a closer look: NUL, or any surrogate (most strings have neither). */
const SUSPECT = /[\u0000\ud800-\udfff]/

/** Where `data` holds a string PostgreSQL cannot store (a 500 otherwise): with a NUL character, or a lone surrogate. */
function nulPaths(data: unknown, path = '', out: Array<{ path: string; message: string }> = []): Array<{ path: string; message: string }> {
  if (typeof data === 'string') {
    if (!SUSPECT.test(data)) return out
    if (data.includes('\u0000')) out.push({ path, message: 'must not contain the NUL character' })
    else if (LONE_SURROGATE.test(data)) out.push({ path, message: 'must be valid Unicode (no lone surrogate)' })
  } else if (Array.isArray(data)) {
    for (let i = 0; i < data.length; i++) nulPaths(data[i], `${path}/${i}`, out)
  } else if (data !== null && typeof data === 'object') {
    for (const k in data) if (Object.hasOwn(data, k)) nulPaths((data as Record<string, unknown>)[k], `${path}/${k}`, out)
  }
  return out
}

const NO_ERRORS: ErrorObject[] = []

export function validatorCompiler({ schema, httpPart }: { schema: object; httpPart?: string }) {
  const validate = (httpPart === 'body' ? bodyAjv : textAjv).compile(schema)
  const checked = (data: unknown) => {
    const valid = validate(data) as boolean
    const nul = nulPaths(data)
    if (valid && nul.length === 0) {
      checked.errors = null
      return true
    }
    const nulErrors = nul.map(({ path: instancePath, message }) => ({ instancePath, schemaPath: '', keyword: 'nul', params: {}, message }))
    checked.errors = [...(valid ? NO_ERRORS : validate.errors ?? NO_ERRORS), ...nulErrors] as ErrorObject[]
    return false
  }
  checked.errors = null as ErrorObject[] | null
  return checked
}

const fieldOf = (e: ErrorObject | FastifySchemaValidationError, part: string | undefined): string => {
  const path = (e.instancePath ?? '').replace(/^\//, '').split('/').filter(Boolean).join('.')
  const params = e.params as Record<string, unknown>
  const leaf = (params.missingProperty ?? params.additionalProperty) as string | undefined
  const field = [path, leaf].filter(Boolean).join('.')
  return field || (part === 'body' ? 'body' : part ?? 'request')
}

const issueOf = (e: ErrorObject | FastifySchemaValidationError): string => {
  const params = e.params as Record<string, unknown>
  switch (e.keyword) {
    case 'required':
      return 'is required'
    case 'additionalProperties':
      return 'is not a known field'
    case 'type':
      return `must be ${params.type === 'integer' ? 'an integer' : `of type ${String(params.type)}`}`
    case 'const':
      return `must be ${JSON.stringify(params.allowedValue)}`
    case 'enum':
      return `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`
    case 'anyOf':
      return 'does not match any allowed form'
    default:
      return e.message ?? 'is not valid'
  }
}

/** Turns Ajv errors into field issues, dropping the noise a union adds. */
export function toFieldIssues(errors: FastifySchemaValidationError[], part: string | undefined): FieldIssue[] {
  const anyOfPaths = new Set(errors.filter((e) => e.keyword === 'anyOf').map((e) => e.instancePath))
  const issues = errors
    .filter((e) => e.keyword === 'anyOf' || !anyOfPaths.has(e.instancePath) || e.keyword === 'required' || e.keyword === 'additionalProperties')
    .map((e) => ({ field: fieldOf(e, part), issue: issueOf(e) }))
  const seen = new Set<string>()
  return issues.filter((i) => {
    const k = `${i.field}\u0000${i.issue}`
    if (seen.has(k)) return false
    seen.add(k)
    return true
  })
}
