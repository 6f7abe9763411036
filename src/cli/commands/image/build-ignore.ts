import type { IgnoreMatcher } from './build-context.ts';

/**
 * The .dockerignore matcher the context walker uses. TODO(#6): plug in src/build/dockerfile's
 * dockerignore.ts once it lands; until then only ignore files without rules are accepted.
 */
export function dockerignoreMatcher(text: string): IgnoreMatcher {
  if (text.split('\n').some((l) => l.trim() !== '' && !l.trim().startsWith('#'))) {
    throw new Error('.dockerignore rules are not supported yet by this berth build');
  }
  return { excludes: () => false, mayReinclude: () => false };
}
