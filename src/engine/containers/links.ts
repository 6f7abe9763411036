import { writeFile } from 'node:fs/promises';
import { EngineError } from '../../lib/errors.ts';
import type { NetworkHooks } from './deps.ts';
import type { ContainerRepo } from './record.ts';
import { readTextOrNull } from '../../lib/fs-probes.ts';

/** The alias part of a --link value ("db:alias", "/db:/web/alias", or just "db"). */
function aliasOf(link: string): string {
  const [name = '', alias] = link.split(':');
  return (alias ?? name).replace(/^.*\//, '');
}

/** What removeLink needs: the records, the network hooks, and where a running container's /etc/hosts is. */
export interface RemoveLinkDeps {
  repo: ContainerRepo;
  network: Pick<NetworkHooks, 'removeLink'> | undefined;
  /** The hosts file of a running container (bind-mounted into it), undefined for a stopped one. */
  liveHostsPath(id: string): string | undefined;
}

/**
 * `docker rm --link /<container>/<alias>` (DELETE /containers/{name}?link=true, dockerd's rmLink):
 * the link leaves the container's HostConfig.Links and its endpoints, so its next start has no such
 * link, and a running container's /etc/hosts loses its entry (dockerd refreshes the sandbox).
 * @throws EngineError Conflict for a name with no container part (dockerd's wording), NotFound for
 *   an unknown container or link
 */
export async function removeLink(deps: RemoveLinkDeps, linkName: string): Promise<void> {
  const name = `/${linkName.replace(/^\/+/, '')}`;
  const cut = name.lastIndexOf('/');
  if (cut === 0) throw new EngineError('Conflict', 'Conflict, cannot remove the default link name of the container');
  const parentName = name.slice(1, cut);
  const alias = name.slice(cut + 1);
  let parent;
  try {
    parent = deps.repo.resolve(parentName);
  } catch (err) {
    throw new EngineError('NotFound', `No such container: ${name}`, { cause: err });
  }
  const links = parent.hostConfig.Links ?? [];
  const kept = links.filter((l) => aliasOf(l) !== alias);
  if (kept.length !== links.length) deps.repo.saveHostConfig(parent.id, { ...parent.hostConfig, Links: kept });
  const onEndpoint = deps.network?.removeLink(parent, alias) ?? false;
  if (kept.length === links.length && !onEndpoint) throw new EngineError('NotFound', `No such container: ${name}`);
  const hostsPath = deps.liveHostsPath(parent.id);
  if (hostsPath) await dropHostsEntry(hostsPath, alias);
}

/**
 * Removes a link's line ("IP\talias hostname name", etc-files.ts) from a hosts file, in place: the
 * file is bind-mounted into the container, so it keeps its inode.
 */
async function dropHostsEntry(path: string, alias: string): Promise<void> {
  const text = await readTextOrNull(path);
  if (text === null) return;
  const lines = text.split('\n');
  const kept = lines.filter((l) => l.split('\t')[1]?.split(' ')[0] !== alias);
  if (kept.length !== lines.length) await writeFile(path, kept.join('\n'));
}
