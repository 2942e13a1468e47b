/** Bundles the page's script, stylesheet and /embed.js with esbuild (at build time, or at start when run from the sources). */
import path from 'node:path'

export interface BundledTexts {
  script: string
  style: string
  embed: string
}

export async function bundlePageAssets(clientDir: string): Promise<BundledTexts> {
  const esbuild = await import('esbuild')
  const bundle = (file: string) =>
    esbuild.build({ entryPoints: [path.join(clientDir, file)], bundle: true, minify: true, format: 'iife', target: ['es2020'], platform: 'browser', write: false, legalComments: 'none' })
  const [js, embedJs] = await Promise.all([bundle('pay.ts'), bundle('embed.ts')])
  const css = await esbuild.build({ entryPoints: [path.join(clientDir, 'pay.css')], bundle: true, minify: true, write: false, loader: { '.css': 'css' } })
  return { script: js.outputFiles[0]!.text, style: css.outputFiles[0]!.text, embed: embedJs.outputFiles[0]!.text }
}
