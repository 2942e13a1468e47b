/** Bundles the page's script, stylesheet and /embed.js with esbuild (at build time, or at start when run from the sources). */
import path from 'node:path'

export interface BundledTexts {
  script: string
  style: string
  embed: string
}

/** A browser script (TypeScript entry point and what it imports), minified into one IIFE. */
export async function bundleScript(entry: string): Promise<string> {
  const esbuild = await import('esbuild')
  const out = await esbuild.build({ entryPoints: [entry], bundle: true, minify: true, format: 'iife', target: ['es2020'], platform: 'browser', write: false, legalComments: 'none' })
  return out.outputFiles[0]!.text
}

/** A stylesheet and what it imports, minified into one. */
export async function bundleStyle(entry: string): Promise<string> {
  const esbuild = await import('esbuild')
  const out = await esbuild.build({ entryPoints: [entry], bundle: true, minify: true, write: false, loader: { '.css': 'css' } })
  return out.outputFiles[0]!.text
}

export async function bundlePageAssets(clientDir: string): Promise<BundledTexts> {
  const [script, embed, style] = await Promise.all([bundleScript(path.join(clientDir, 'pay.ts')), bundleScript(path.join(clientDir, 'embed.ts')), bundleStyle(path.join(clientDir, 'pay.css'))])
  return { script, style, embed }
}
