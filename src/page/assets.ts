/**
 * The page's own script and stylesheet: TypeScript bundled by esbuild, served under a
 * content hash (`/pay/assets/pay.<hash>.js`) so they can be cached forever and the CSP can
 * stay `script-src 'self'`. Built once per process, at start.
 */
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createHash } from 'node:crypto'
import { gzipSync } from 'node:zlib'

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

const clientDir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'client')

const asset = (name: string, ext: string, text: string, contentType: string): Asset => {
  const body = Buffer.from(text)
  const hash = createHash('sha256').update(body).digest('hex').slice(0, 16)
  return { path: `/pay/assets/${name}.${hash}.${ext}`, body, gzipped: gzipSync(body, { level: 9 }), contentType }
}

let built: Promise<PageAssets> | undefined

export function pageAssets(): Promise<PageAssets> {
  built ??= (async () => {
    const esbuild = await import('esbuild')
    const bundle = (file: string) =>
      esbuild.build({ entryPoints: [path.join(clientDir, file)], bundle: true, minify: true, format: 'iife', target: ['es2020'], platform: 'browser', write: false, legalComments: 'none' })
    const [js, embedJs] = await Promise.all([bundle('pay.ts'), bundle('embed.ts')])
    const css = await esbuild.build({ entryPoints: [path.join(clientDir, 'pay.css')], bundle: true, minify: true, write: false, loader: { '.css': 'css' } })
    const script = asset('pay', 'js', js.outputFiles[0]!.text, 'text/javascript; charset=utf-8')
    const style = asset('pay', 'css', css.outputFiles[0]!.text, 'text/css; charset=utf-8')
    const embed = { ...asset('embed', 'js', embedJs.outputFiles[0]!.text, 'text/javascript; charset=utf-8'), path: '/embed.js' }
    return { script, style, embed, byPath: new Map([script, style].map((a) => [a.path, a])) }
  })()
  return built
}
