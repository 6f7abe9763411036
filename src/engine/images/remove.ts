import { conflict } from '../../lib/errors.ts';
import { shortId } from '../../lib/ids.ts';
import { familiarString, parseRefKey, parseReference, refKey, repositoryName, type ImageReference } from '../../lib/reference.ts';
import type { ImageRemoval } from '../contracts/images.ts';
import type { ImageRecords, RefRow } from './records.ts';

/** A container that uses an image, as the container engine reports it. */
export interface ImageUser {
  id: string;
  running: boolean;
}

export interface RemovePlanInput {
  /** What the user asked to remove, as given. */
  input: string;
  imageId: string;
  force: boolean;
  users: readonly ImageUser[];
}

/** The outcome: references to drop (in order, each an Untagged record) and whether the image goes. */
export interface RemovePlan {
  untag: RefRow[];
  deleteImage: boolean;
}

const isCanonical = (r: RefRow) => r.kind === 'digest';
const repoOf = (r: RefRow) => repositoryName(parseRefKey(r.ref));

/** Docker's isSingleReference: one tag at most, and every reference in that tag's repository. */
function isSingleReference(refs: readonly RefRow[]): boolean {
  if (refs.length <= 1) return refs.length === 1;
  const tags = refs.filter((r) => !isCanonical(r));
  if (tags.length > 1) return false;
  const canonicalRepos = new Set(refs.filter(isCanonical).map(repoOf));
  const single = tags[0] ?? refs[0]!;
  return canonicalRepos.size === 1 && canonicalRepos.has(repoOf(single));
}

/** True when input names the image by (a prefix of) its ID. */
export function isIdPrefix(imageId: string, input: string): boolean {
  return input.length > 0 && (imageId.startsWith(input) || imageId.slice(7).startsWith(input));
}

const deleteConflict = (imageId: string, hard: boolean, message: string) =>
  conflict(`conflict: unable to delete ${shortId(imageId)} (${hard ? 'cannot be forced' : 'must be forced'}) - ${message}`);

/**
 * Docker's image delete rules (daemon/images/image_delete.go), as a plan. By reference: untag
 * only, unless it was the last reference; a container using the image needs force. By ID:
 * several references need force ("image is referenced in multiple repositories"), a stopped
 * container needs force, a running one cannot be forced. Conflict errors use Docker's wording.
 */
export function planRemove(records: ImageRecords, p: RemovePlanInput): RemovePlan {
  let refs = records.refsOf(p.imageId);
  const untag: RefRow[] = [];
  const running = p.users.find((u) => u.running);
  const stopped = p.users.find((u) => !u.running);
  let quiet = false;

  if (!isIdPrefix(p.imageId, p.input)) {
    const named: ImageReference = parseReference(p.input);
    const key = refKey(named);
    if (!p.force && isSingleReference(refs) && p.users.length > 0) {
      throw conflict(`conflict: unable to remove repository reference "${p.input}" (must force) - container ${shortId(p.users[0]!.id)} is using its referenced image ${shortId(p.imageId)}`);
    }
    const row = refs.find((r) => r.ref === key);
    if (row) untag.push(row);
    refs = refs.filter((r) => r.ref !== key);
    // A removed tag takes the digest references of its repository along when no tag is left there.
    if (named.digest === undefined) {
      const repo = repositoryName(named);
      if (!refs.some((r) => !isCanonical(r) && repoOf(r) === repo)) {
        const same = refs.filter((r) => isCanonical(r) && repoOf(r) === repo);
        untag.push(...same);
        refs = refs.filter((r) => !same.includes(r));
      }
    }
    if (refs.length > 0) return { untag, deleteImage: false };
    quiet = true;
  } else if (isSingleReference(refs)) {
    if (running) throw deleteConflict(p.imageId, true, `image is being used by running container ${shortId(running.id)}`);
    if (!p.force && stopped) throw deleteConflict(p.imageId, false, `image is being used by stopped container ${shortId(stopped.id)}`);
    untag.push(...refs);
    refs = [];
  }

  // imageDeleteHelper: hard conflicts always, soft ones unless forced.
  const found = running
    ? { hard: true, used: true, message: `image is being used by running container ${shortId(running.id)}` }
    : !p.force && refs.length > 0
      ? { hard: false, used: false, message: 'image is referenced in multiple repositories' }
      : !p.force && stopped
        ? { hard: false, used: true, message: `image is being used by stopped container ${shortId(stopped.id)}` }
        : null;
  if (found) {
    // After untagging its last reference, a used image stays (untagged) without an error.
    if (quiet && (refs.length > 0 || found.used)) return { untag, deleteImage: false };
    throw deleteConflict(p.imageId, found.hard, found.message);
  }
  untag.push(...refs);
  return { untag, deleteImage: true };
}

/** The references a plan drops, in order. */
export const untaggedRecords = (plan: RemovePlan): ImageRemoval[] =>
  plan.untag.map((r) => ({ untagged: familiarString(parseRefKey(r.ref)) }));
