/**
 * `berth --help` and the management commands' help (`berth network`), in docker CLI 28's layout.
 * Loaded only when help is asked for.
 */
import { flagUsages, PROGRAM } from './args/parse.ts';
import { GLOBAL_SPEC } from './global-options.ts';
import { CATALOG, GROUPS } from './commands/index.ts';

/** Top-level commands by section, as `docker --help` groups them; descriptions are the specs'. */
export const MAIN_SECTIONS: ReadonlyArray<readonly [title: string, rows: ReadonlyArray<readonly [string, string]>]> = [
  ['Common Commands', [
    ['run', 'Create and run a new container from an image'],
    ['exec', 'Execute a command in a running container'],
    ['ps', 'List containers'],
    ['build', 'Build an image from a Dockerfile'],
    ['pull', 'Download an image from a registry'],
    ['push', 'Upload an image to a registry'],
    ['images', 'List images'],
    ['login', 'Authenticate to a registry'],
    ['logout', 'Log out from a registry'],
    ['search', 'Search Docker Hub for images'],
    ['version', 'Show the Berth version information'],
    ['info', 'Display system-wide information'],
  ]],
  ['Management Commands', Object.entries(GROUPS)],
  ['Commands', [
    ['attach', 'Attach local standard input, output, and error streams to a running container'],
    ['commit', "Create a new image from a container's changes"],
    ['completion', 'Generate the autocompletion script for the specified shell'],
    ['cp', 'Copy files/folders between a container and the local filesystem'],
    ['create', 'Create a new container'],
    ['diff', "Inspect changes to files or directories on a container's filesystem"],
    ['events', 'Get real time events from the server'],
    ['export', "Export a container's filesystem as a tar archive"],
    ['history', 'Show the history of an image'],
    ['import', 'Import the contents from a tarball to create a filesystem image'],
    ['inspect', 'Return low-level information on Docker objects'],
    ['kill', 'Kill one or more running containers'],
    ['load', 'Load an image from a tar archive or STDIN'],
    ['logs', 'Fetch the logs of a container'],
    ['pause', 'Pause all processes within one or more containers'],
    ['port', 'List port mappings or a specific mapping for the container'],
    ['rename', 'Rename a container'],
    ['restart', 'Restart one or more containers'],
    ['rm', 'Remove one or more containers'],
    ['rmi', 'Remove one or more images'],
    ['save', 'Save one or more images to a tar archive (streamed to STDOUT by default)'],
    ['start', 'Start one or more stopped containers'],
    ['stats', 'Display a live stream of container(s) resource usage statistics'],
    ['stop', 'Stop one or more running containers'],
    ['tag', 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE'],
    ['top', 'Display the running processes of a container'],
    ['unpause', 'Unpause all processes within one or more containers'],
    ['update', 'Update configuration of one or more containers'],
    ['wait', 'Block until one or more containers stop, then print their exit codes'],
  ]],
];

/** cobra's command listing: names padded to the longest (at least 11), one space, the description. */
function listing(rows: ReadonlyArray<readonly [string, string]>): string {
  const pad = Math.max(11, ...rows.map(([n]) => n.length));
  return rows.map(([n, d]) => `  ${n.padEnd(pad)} ${d}\n`).join('');
}

/** What `berth`, `berth --help` and `berth help` print. */
export function mainHelp(): string {
  const sections = MAIN_SECTIONS.map(([title, rows]) => `${title}:\n${listing(rows)}`).join('\n');
  return `Usage:  ${PROGRAM} [OPTIONS] COMMAND\n\nA Docker-compatible container engine\n\n${sections}\n`
    + `Global Options:\n${flagUsages(GLOBAL_SPEC.flags)}\n`
    + `Run '${PROGRAM} COMMAND --help' for more information on a command.\n`;
}

/** The subcommands of a management command: each command's first path under the group. */
export async function groupCommands(group: string): Promise<Array<[string, string]>> {
  const under = CATALOG.filter((c) => c.paths.some((p) => p.startsWith(`${group} `)));
  const loaded = await Promise.all(under.map((c) => c.load()));
  return under
    .map((c, i): [string, string] => [c.paths.find((p) => p.startsWith(`${group} `))!.slice(group.length + 1), loaded[i]!.spec.description.split('\n')[0]!])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

/** What `berth network` and `berth network --help` print. */
export async function groupHelp(group: string): Promise<string> {
  return `Usage:  ${PROGRAM} ${group} COMMAND\n\n${GROUPS[group]}\n\nCommands:\n${listing(await groupCommands(group))}\n`
    + `Run '${PROGRAM} ${group} COMMAND --help' for more information on a command.\n`;
}
