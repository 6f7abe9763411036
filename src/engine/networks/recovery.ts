import type { BridgeDriver, BridgeNetwork } from '../../network/index.ts';
import type { IntentLog } from '../../store/intents.ts';
import type { NetworkRepo } from './record.ts';

/** Intent kinds of network create and remove (store/intents.ts). */
export const CREATE_INTENT = 'network-create';
export const REMOVE_INTENT = 'network-remove';

/** What a network create or remove records before it touches the host. */
export interface NetworkIntent {
  net: BridgeNetwork;
  /** The bridge existed before the create (a user-chosen name): an undo leaves it. */
  keepBridge: boolean;
}

interface Deps {
  intents: IntentLog;
  repo: NetworkRepo;
  driver: Pick<BridgeDriver, 'removeNetwork' | 'chains' | 'dropChains'>;
  log: { info(o: object, m?: string): void; warn(o: object, m?: string): void };
}

/**
 * Start-up, before the networks' host objects are restored: a create that has no row is undone
 * (its bridge, chains and map elements go; otherwise the next create would pick the same subnet
 * and fail with "File exists"), and a remove that has begun is finished (dockerd's network rm
 * cannot be taken back either: its endpoints may already be gone).
 */
export async function recoverNetworkIntents(d: Deps): Promise<void> {
  for (const { id, data } of d.intents.list<NetworkIntent>(CREATE_INTENT)) {
    if (!d.repo.get(id)) {
      d.log.info({ network: id }, 'recovery: undoing an interrupted network create');
      await d.driver.removeNetwork(data.net, { keepBridge: data.keepBridge }).catch((err) => d.log.warn({ err, network: id }, 'undo network create'));
    }
    d.intents.clear(CREATE_INTENT, id);
  }
  for (const { id, data } of d.intents.list<NetworkIntent>(REMOVE_INTENT)) {
    d.log.info({ network: id }, 'recovery: finishing an interrupted network remove');
    if (d.repo.get(id)) {
      for (const e of d.repo.endpointsOn(id)) d.repo.removeEndpoint(e.containerId, id);
    }
    try {
      await d.driver.removeNetwork(data.net);
    } catch (err) {
      // Keep the intent: the next start tries again rather than leaving the bridge for good.
      d.log.warn({ err, network: id }, 'finish network remove');
      continue;
    }
    if (d.repo.get(id)) d.repo.delete(id);
    d.intents.clear(REMOVE_INTENT, id);
  }
}

/**
 * Start-up, after every network's chains are restored: network chains (`n-<id>-*`) of no network
 * are dropped with the map elements (masq, hairpin, fwd_out, fwd_in) that jump to them, whatever
 * left them (a crash before intents were recorded, a removal that half failed).
 */
export async function sweepNetworkChains(d: Omit<Deps, 'intents'>): Promise<void> {
  const known = new Set(d.repo.all().filter((n) => n.driver === 'bridge').map((n) => n.id.slice(0, 12)));
  const orphans = (await d.driver.chains()).filter((c) => {
    const m = /^n-([0-9a-f]{12})-[a-z]+$/.exec(c);
    return m && !known.has(m[1]!);
  });
  if (orphans.length === 0) return;
  d.log.info({ chains: orphans }, 'recovery: dropping chains of networks that do not exist');
  await d.driver.dropChains(orphans).catch((err) => d.log.warn({ err, chains: orphans }, 'drop orphan network chains'));
}
