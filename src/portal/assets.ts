/**
 * The portal's own script and stylesheet, built like the page's (src/page/assets.ts):
 * TypeScript bundled by esbuild, served under a content hash (`/portal/assets/portal.<hash>.js`)
 * so the CSP stays `script-src 'self'`. The compiled build bundles them once
 * (dist/portal/assets.json, see scripts/build.mjs); from the sources, once per process.
 */
import fs from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { hashedAsset, type Asset } from '../page/assets.js'
import { bundlePortalAssets, type PortalTexts } from './bundle.js'

export interface PortalAssets {
  script: Asset
  style: Asset
  byPath: Map<string, Asset>
}

const here = path.dirname(fileURLToPath(import.meta.url))
/** Written by the compiled build beside this module. */
const prebuilt = path.join(here, 'assets.json')

let built: Promise<PortalAssets> | undefined

export function portalAssets(): Promise<PortalAssets> {
  built ??= (async () => {
    const texts: PortalTexts = fs.existsSync(prebuilt) ? (JSON.parse(fs.readFileSync(prebuilt, 'utf8')) as PortalTexts) : await bundlePortalAssets(path.join(here, 'client'))
    const script = hashedAsset('/portal/assets', 'portal', 'js', texts.script, 'text/javascript; charset=utf-8')
    const style = hashedAsset('/portal/assets', 'portal', 'css', texts.style, 'text/css; charset=utf-8')
    return { script, style, byPath: new Map([script, style].map((a) => [a.path, a])) }
  })()
  return built
}
