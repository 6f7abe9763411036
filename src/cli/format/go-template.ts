/**
 * Go text/template for docker's `--format` and `inspect -f`: parse once, execute against a JS
 * value (JSON objects behave as Go maps). Functions are Go's builtins plus docker's (json, join,
 * split, lower, upper, title, pad, truncate). Errors carry docker's wording, e.g.
 * `template parsing error: template: :1: function "foo" not defined`.
 */
import { EngineError } from '../../lib/errors.ts';
import { executeTemplate, TemplateExecError } from './template/exec.ts';
import { BUILTINS, DOCKER_FUNCS, HEADER_FUNCS, type FuncMap } from './template/funcs.ts';
import { TemplateSyntaxError } from './template/lexer.ts';
import { parseTemplate, type TemplateNode } from './template/parser.ts';

export type { TemplateFunction, FuncMap } from './template/funcs.ts';
export { formatValue, goJson } from './template/go-fmt.ts';

/** A template parse or execution failure. Kind InvalidParameter; the message is what docker prints. */
export class TemplateError extends EngineError {
  override name = 'TemplateError';
  constructor(message: string) { super('InvalidParameter', message); }
}

/** Options for compileTemplate: extra functions (they win over the built-in ones). */
export interface CompileOptions { funcs?: FuncMap }

/** Go's "line:col" of a byte offset: line 1-based, column the 0-based byte offset in the line. */
function location(src: string, pos: number): { line: number; col: number } {
  const before = Buffer.from(src).subarray(0, pos).toString();
  const nl = before.lastIndexOf('\n');
  return { line: 1 + before.split('\n').length - 1, col: nl === -1 ? Buffer.byteLength(before) : Buffer.byteLength(before.slice(nl + 1)) };
}

/** A parsed template; immutable and reusable. */
export class GoTemplate {
  private constructor(
    readonly source: string,
    private readonly nodes: TemplateNode[],
    private readonly funcs: FuncMap,
  ) {}

  /**
   * Parse `source`.
   * @throws TemplateError `template parsing error: template: :LINE: MESSAGE`
   */
  static parse(source: string, opts: CompileOptions = {}): GoTemplate {
    const funcs: FuncMap = { ...BUILTINS, ...DOCKER_FUNCS, ...opts.funcs };
    try {
      return new GoTemplate(source, parseTemplate(source, (name) => Object.hasOwn(funcs, name)), funcs);
    } catch (e) {
      if (!(e instanceof TemplateSyntaxError)) throw e;
      // Go reports parse errors by byte offset turned into a line (the lexer counts by UTF-16 index).
      const line = 1 + source.slice(0, e.pos).split('\n').length - 1;
      throw new TemplateError(`template parsing error: template: :${line}: ${e.message}`);
    }
  }

  /**
   * Execute against `data` (dot and `$`).
   * @throws TemplateError `template parsing error: template: :1:2: executing "" at <.A.B>: ...`
   *   (docker prefixes execution errors with "template parsing error" too).
   */
  execute(data: unknown): string {
    const out: string[] = [];
    this.#run(data, this.funcs, false, out);
    return out.join('');
  }

  /**
   * Render a docker table header: `headers` maps field names to column titles (`ID` →
   * `CONTAINER ID`); formatting functions return their input (docker's HeaderFunctions); a field
   * without a title shows its name upper-cased. Like docker, an error ends the header early
   * instead of failing: the partial output is returned.
   */
  executeHeader(headers: Readonly<Record<string, string>>): string {
    const out: string[] = [];
    try {
      this.#run(headers, { ...this.funcs, ...HEADER_FUNCS }, true, out);
    } catch (e) {
      if (!(e instanceof TemplateError)) throw e;
    }
    return out.join('');
  }

  #run(data: unknown, funcs: FuncMap, headerMode: boolean, out: string[]): void {
    try {
      executeTemplate(this.nodes, data, { funcs, headerMode }, out);
    } catch (e) {
      if (!(e instanceof TemplateExecError)) throw e;
      const { line, col } = location(this.source, e.pos);
      throw new TemplateError(`template parsing error: template: :${line}:${col}: executing "" at <${e.context}>: ${e.reason}`);
    }
  }
}

/** Parse and execute in one step (for one-off use; parse once when formatting many items). */
export const renderTemplate = (source: string, data: unknown): string => GoTemplate.parse(source).execute(data);
