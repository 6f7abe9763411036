import { EngineError } from '../../lib/errors.ts';
import type { NetworkHooks } from './deps.ts';
import type { ContainerRepo } from './record.ts';

/** The alias part of a --link value ("db:alias", "/db:/web/alias", or just "db"). */
function aliasOf(link: string): string {
  const [name = '', alias] = link.split(':');
  return (alias ?? name).replace(/^.*\//, '');
}

/**
 * `docker rm --link /<container>/<alias>` (DELETE /containers/{name}?link=true, dockerd's rmLink):
 * the link leaves the container's HostConfig.Links and its endpoints, so its next start has no such
 * link. A running container keeps its /etc/hosts entry until then.
 * @throws EngineError Conflict for a name with no container part (dockerd's wording), NotFound for
 *   an unknown container or link
 */
export function removeLink(deps: { repo: ContainerRepo; network: Pick<NetworkHooks, 'removeLink'> | undefined }, linkName: string): void {
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
}
