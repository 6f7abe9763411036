/**
 * ARG scoping, as dockerd does it: `--build-arg` values override ARG defaults; meta ARGs (before
 * the first FROM) are visible only to FROM lines, and an ARG inside a stage that names one without
 * a default takes the meta value; the predefined proxy args work without being declared but stay
 * out of history and cache keys unless declared.
 */
export const PREDEFINED_ARGS = new Set(['HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy',
  'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy']);

export class BuildArgs {
  /** Names whose --build-arg was consumed by some ARG (for the unused-args warning). */
  readonly used = new Set<string>();
  readonly meta = new Map<string, string>();

  constructor(readonly given: Readonly<Record<string, string | null>>) {}

  /** The value of `ARG name[=dflt]` (dflt already expanded); undefined when it stays unset. */
  resolve(name: string, dflt: string | undefined): string | undefined {
    const g = this.given[name];
    if (g !== undefined && g !== null) {
      this.used.add(name);
      return g;
    }
    if (dflt !== undefined) return dflt;
    return this.meta.get(name);
  }

  /** Declares a meta ARG (before the first FROM). */
  declareMeta(name: string, dflt: string | undefined): void {
    const v = this.resolve(name, dflt);
    if (v !== undefined) this.meta.set(name, v);
  }

  /** Predefined proxy args given with --build-arg and not declared: visible to RUN only. */
  predefined(declared: ReadonlyMap<string, string>): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    for (const [k, v] of Object.entries(this.given)) {
      if (PREDEFINED_ARGS.has(k) && v !== null && !declared.has(k)) {
        this.used.add(k);
        out.push([k, v]);
      }
    }
    return out;
  }

  /** --build-args no ARG consumed (dockerd warns about them at the end). */
  unused(): string[] {
    return Object.keys(this.given).filter((k) => !this.used.has(k) && !PREDEFINED_ARGS.has(k) && !this.meta.has(k)).sort();
  }
}
