/**
 * The Dockerfile front end: parsing (parse.ts) into the AST of ast.ts, Docker's word expansion
 * (substitute.ts) and .dockerignore matching (lib/dockerignore.ts, shared with the CLI). Pure code, no I/O.
 */
export type * from './ast.ts';
export { DockerfileParseError, parseDockerfile, parseInstructions } from './parse.ts';
export { parseGoDuration } from '../../lib/go-duration.ts';
export { parseHeredocWord } from './heredoc-words.ts';
export { runPlan, type RunPlan } from './run-plan.ts';
export {
  envFromList, expand, expandHeredoc, expandWithMatches, expandWords,
  type EnvLookup, type ExpandOptions, type ExpandResult,
} from './substitute.ts';
export {
  buildFilesToRemove, cleanPath, DockerignoreMatcher, ignoreFileFor, keepBuildFiles, parseDockerignore,
} from '../../lib/dockerignore.ts';
