/** Bundles the portal's script and stylesheet with esbuild (at build time, or at start when run from the sources). */
import path from 'node:path'

export interface PortalTexts {
  script: string
  style: string
}

export async function bundlePortalAssets(clientDir: string): Promise<PortalTexts> {
  const esbuild = await import('esbuild')
  const [js, css] = await Promise.all([
    esbuild.build({ entryPoints: [path.join(clientDir, 'portal.ts')], bundle: true, minify: true, format: 'iife', target: ['es2020'], platform: 'browser', write: false, legalComments: 'none' }),
    esbuild.build({ entryPoints: [path.join(clientDir, 'portal.css')], bundle: true, minify: true, write: false, loader: { '.css': 'css' } }),
  ])
  return { script: js.outputFiles[0]!.text, style: css.outputFiles[0]!.text }
}
