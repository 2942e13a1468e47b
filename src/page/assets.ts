/**
 * The page's own script and stylesheet: TypeScript bundled by esbuild, served under a
 * content hash (`/pay/assets/pay.<hash>.js`) so they can be cached forever and the CSP can
 * stay `script-src 'self'`. The compiled build bundles them once (dist/page/assets.json, see
 * scripts/build.mjs); run from the sources, they are bundled once per process, at start.
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createHash } from 'node:crypto'
import { gzipSync } from 'node:zlib'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { bundlePageAssets, type BundledTexts } from './bundle.js'

export interface Asset {
  path: string
  body: Buffer
  gzipped: Buffer
  contentType: string
}

export interface PageAssets {
  script: Asset
  style: Asset
  /** /embed.js for tenant pages (served at a fixed path, not under /pay). */
  embed: Asset
  byPath: Map<string, Asset>
}

const here = path.dirname(fileURLToPath(import.meta.url))
const clientDir = path.join(here, 'client')
/** Written by the compiled build beside this module. */
const prebuilt = path.join(here, 'assets.json')

/** A bundled text served at `<dir>/<name>.<hash>.<ext>`, with its gzipped form made once. */
export const hashedAsset = (dir: string, name: string, ext: string, text: string, contentType: string): Asset => {
  const body = Buffer.from(text)
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 16)
  return { path: `${dir}/${name}.${hash}.${ext}`, body, gzipped: gzipSync(body, { level: 9 }), contentType }
}
const asset = (name: string, ext: string, text: string, contentType: string) => hashedAsset('/pay/assets', name, ext, text, contentType)

/**
 * Sends `body` gzipped when the client accepts gzip (`gzipped`, made once for an asset, or
 * made now for a page of a few KB: well under a millisecond), plain otherwise.
 */
export function sendGzippedIfAccepted(request: FastifyRequest, reply: FastifyReply, body: string | Buffer, gzipped?: Buffer) {
  if (/\bgzip\b/.test(request.headers['accept-encoding'] ?? '')) return reply.header('content-encoding', 'gzip').send(gzipped ?? gzipSync(body))
  return reply.send(body)
}

/** An asset's answer: its body, gzipped when accepted. */
export const sendAsset = (request: FastifyRequest, reply: FastifyReply, a: Asset) => sendGzippedIfAccepted(request, reply, a.body, a.gzipped)

let built: Promise<PageAssets> | undefined

export function pageAssets(): Promise<PageAssets> {
  built ??= (async () => {
    const texts: BundledTexts = fs.existsSync(prebuilt) ? (JSON.parse(fs.readFileSync(prebuilt, 'utf8')) as BundledTexts) : await bundlePageAssets(clientDir)
    const script = asset('pay', 'js', texts.script, 'text/javascript; charset=utf-8')
    const style = asset('pay', 'css', texts.style, 'text/css; charset=utf-8')
    const embed = { ...asset('embed', 'js', texts.embed, 'text/javascript; charset=utf-8'), path: '/embed.js' }
    return { script, style, embed, byPath: new Map([script, style].map((a) => [a.path, a])) }
  })()
  return built
}
