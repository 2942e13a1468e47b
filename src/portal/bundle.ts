/** Bundles the portal's script and stylesheet with esbuild (at build time, or at start when run from the sources). */
import path from 'node:path'
import { bundleScript, bundleStyle } from '../page/bundle.js'

export interface PortalTexts {
  script: string
  style: string
}

export async function bundlePortalAssets(clientDir: string): Promise<PortalTexts> {
  const [script, style] = await Promise.all([bundleScript(path.join(clientDir, 'portal.ts')), bundleStyle(path.join(clientDir, 'portal.css'))])
  return { script, style }
}
