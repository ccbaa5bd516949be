/**
 * Starting a drain from the page: the same fields as POST /v1/drains, a live preview of the
 * nodes the selector takes (a dry run on the server, so it is exactly what a start would take),
 * then a confirm step that says what will happen before anything does.
 */
import { ApiError, type Api } from './api.js';
import { confirmAction } from './confirm.js';
import { byId, fieldText, h, replaceContent } from './dom.js';
import { byIdNaturally, count, drainedAtText, localityText, nodesText } from './format.js';
import { renderRadius, typedWord } from './radius.js';
import type { Store } from './store.js';
import type { DrainDigest, DrainMeasure, DrainPreview, DrainRequest, FieldError } from './types.js';

type EgressAfter = NonNullable<DrainRequest['egress']>['after'];

/** Which input an API field error belongs to. */
const FIELD_INPUTS: readonly [prefix: string, input: string][] = [
  ['selector', 'cluster'],
  ['scope.listeners', 'listeners'],
  ['scope', 'scope'],
  ['method', 'method'],
  ['confirm', 'confirm'],
  ['egress.delaySeconds', 'delaySeconds'],
  ['egress', 'egressAfter'],
  ['batch', 'batch'],
  ['deadlineSeconds', 'deadlineSeconds'],
  ['threshold', 'threshold'],
  ['measure', 'measure'],
];

export class DrainForm {
  readonly #section = byId('drain-form-section');
  readonly #form = byId<HTMLFormElement>('drain-form');
  readonly #preview = byId('drain-preview');
  #latest: { key: string; preview: DrainPreview } | undefined;
  #asked = 0;
  #typing: number | undefined;
  #starting = false;

  constructor(
    private readonly api: Api,
    store: Store,
    private readonly started: (id: string, digest: DrainDigest | undefined) => void,
  ) {
    this.#form.addEventListener('input', () => {
      this.#showDependentFields();
      clearTimeout(this.#typing);
      this.#typing = window.setTimeout(() => void this.#runPreview(), 300);
    });
    this.#form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.#review();
    });
    byId('close-form').addEventListener('click', () => this.close());
    this.#section.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && !(e.target instanceof HTMLSelectElement)) this.close();
    });
    store.watch(['summary'], ({ summary }) => {
      if (!summary) return;
      fillDatalist(
        'cluster-options',
        summary.groups.map((g) => g.cluster),
      );
      fillDatalist(
        'zone-options',
        summary.groups.map((g) => g.zone),
      );
    });
    this.#showDependentFields();
  }

  /** Shows the form (its address is #/drains/new), focused on its first field. */
  open(): void {
    if (!this.#section.hidden) return;
    this.#section.hidden = false;
    byId('new-drain').setAttribute('aria-expanded', 'true');
    this.#form.querySelector<HTMLInputElement>('input[name="cluster"]')!.focus();
    void this.#runPreview();
  }

  /** Hides the form, its fields kept (the address left #/drains/new). */
  hide(): void {
    this.#section.hidden = true;
    byId('new-drain').setAttribute('aria-expanded', 'false');
  }

  /** Closes the form by the operator's choice: back to the drains, focus back on the opener. */
  close(): void {
    location.hash = '#/drains';
    this.hide();
    byId('new-drain').focus();
  }

  /** Shows the inputs that apply to the choices made (egress timing only for scope all, ...). */
  #showDependentFields(): void {
    const v = (name: string) => (this.#form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement).value;
    byId('listeners-field').hidden = v('scope') !== 'listeners';
    byId('egress-field').hidden = v('scope') !== 'all';
    byId('delay-field').hidden = v('scope') !== 'all' || v('egressAfter') !== 'delay';
    byId('confirm-field').hidden = v('method') !== 'drain-listeners';
    byId('batch-field').hidden = v('batchKind') === '';
  }

  async #runPreview(): Promise<DrainPreview | undefined> {
    const asked = ++this.#asked;
    const request = this.#request();
    if ('error' in request) {
      this.#showErrors([request.error]);
      return undefined;
    }
    if (Object.keys(request.selector ?? {}).length === 0) {
      this.#latest = undefined;
      this.#showErrors([]);
      replaceContent(this.#preview, h('p', { class: 'hint' }, 'Name the nodes to drain: a cluster, region, zone, node ids or metadata.'));
      return undefined;
    }
    const key = JSON.stringify(request);
    try {
      const preview = await this.api.post<DrainPreview>('/v1/drains/preview', request);
      if (asked !== this.#asked) return undefined;
      this.#latest = { key, preview };
      this.#showErrors([]);
      replaceContent(this.#preview, renderPreview(preview));
      return preview;
    } catch (err) {
      if (asked !== this.#asked) return undefined;
      this.#latest = undefined;
      this.#showErrors(err instanceof ApiError && err.fields.length > 0 ? err.fields : [{ field: '', message: (err as Error).message }]);
      return undefined;
    }
  }

  async #review(): Promise<void> {
    // A drain being started: a second submit meanwhile would start it twice.
    if (this.#starting) return;
    // A preview still due from the last keystroke would start after this one and discard it,
    // leaving the click with no answer: this preview is of the same fields, so it stands for both.
    clearTimeout(this.#typing);
    const preview = await this.#runPreview();
    const request = this.#request();
    // The operator left the form while the preview was on its way: there is nothing to confirm.
    if (this.#section.hidden || !preview || 'error' in request || this.#latest?.key !== JSON.stringify(request)) return;
    const word = typedWord(preview);
    const ok = await confirmAction({
      title: `Start draining ${count(preview.matched)} node(s)?`,
      body: [renderRadius(preview), renderPreview(preview)],
      confirm: `Drain ${nodesText(preview.matched)}`,
      ...(word !== undefined && { typed: word }),
    });
    if (!ok || this.#starting) return;
    this.#starting = true;
    this.#form.setAttribute('aria-busy', 'true');
    const submit = byId('review-drain');
    const words = submit.textContent;
    submit.textContent = 'Starting the drain…';
    try {
      const drain = await this.api.post<{ id: string }>('/v1/drains', request);
      // Started, whatever comes next: the drain's page fetches its summary if this read fails.
      const digest = await this.api.get<DrainDigest>(`/v1/drains/${encodeURIComponent(drain.id)}/summary`).catch(() => undefined);
      this.hide();
      this.started(drain.id, digest);
    } catch (err) {
      this.#showErrors(err instanceof ApiError && err.fields.length > 0 ? err.fields : [{ field: '', message: (err as Error).message }]);
    } finally {
      this.#starting = false;
      this.#form.removeAttribute('aria-busy');
      submit.textContent = words;
    }
  }

  /** The request the form describes, or the first thing in it that cannot be sent. */
  #request(): DrainRequest | { error: FieldError } {
    const data = new FormData(this.#form);
    const text = (name: string) => fieldText(data, name).trim();
    const list = (name: string) =>
      text(name)
        .split(/[\s,]+/)
        .filter(Boolean);
    const metadata: Record<string, string> = {};
    for (const pair of list('metadata')) {
      const eq = pair.indexOf('=');
      if (eq <= 0) return { error: { field: 'selector.metadata', message: `"${pair}" is not key=value` } };
      metadata[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    const locality = { ...(text('region') && { region: text('region') }), ...(text('zone') && { zone: text('zone') }) };
    const scope = text('scope');
    const batchKind = text('batchKind');
    const number = (name: string) => (text(name) === '' ? undefined : Number(text(name)));
    const batch = number('batch');
    return {
      selector: {
        ...(text('cluster') && { cluster: text('cluster') }),
        ...(Object.keys(locality).length > 0 && { locality }),
        ...(list('ids').length > 0 && { ids: list('ids') }),
        ...(Object.keys(metadata).length > 0 && { metadata }),
      },
      scope: scope === 'listeners' ? { listeners: list('listeners') } : (scope as DrainRequest['scope'] & string),
      method: text('method') as DrainRequest['method'] & string,
      ...(scope === 'all' && {
        egress: {
          after: text('egressAfter') as EgressAfter,
          ...(text('egressAfter') === 'delay' && { delaySeconds: number('delaySeconds') ?? 0 }),
        },
      }),
      ...(batchKind !== '' && batch !== undefined && { batch: batchKind === 'size' ? { size: batch } : { percent: batch } }),
      ...(number('deadlineSeconds') !== undefined && { deadlineSeconds: number('deadlineSeconds')! }),
      ...(number('threshold') !== undefined && { threshold: number('threshold')! }),
      ...(text('measure') !== '' && { measure: text('measure') as DrainMeasure }),
      ...(data.get('confirm') === 'on' && { confirm: true }),
    };
  }

  /** Marks the inputs the errors are about, and lists the errors in the preview. */
  #showErrors(errors: readonly FieldError[]): void {
    for (const el of this.#form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
    if (errors.length === 0) return;
    for (const e of errors) {
      const input = FIELD_INPUTS.find(([prefix]) => e.field === prefix || e.field.startsWith(`${prefix}.`))?.[1];
      if (input) (this.#form.elements.namedItem(input) as HTMLElement | null)?.setAttribute('aria-invalid', 'true');
    }
    replaceContent(
      this.#preview,
      h(
        'div',
        { class: 'error' },
        h('p', {}, 'This drain cannot start yet:'),
        h(
          'ul',
          {},
          groupErrors(errors).map((g) => h('li', {}, g.text, g.nodes.length > 0 ? ` (${nodesText(g.nodes.length)}: ${idsText(g.nodes)})` : '')),
        ),
      ),
    );
  }
}

function renderPreview(p: DrainPreview): HTMLElement {
  const more = p.matched - p.nodes.length;
  return h(
    'div',
    { class: 'preview-body' },
    h('p', { class: 'matched' }, h('strong', {}, `Matches ${count(p.matched)} connected node(s)`), p.matched > 0 ? ':' : '.'),
    p.groups.length > 0
      ? h(
          'ul',
          {},
          p.groups.map((g) => h('li', {}, `${localityText(g)}: ${count(g.nodes)}`)),
        )
      : null,
    p.nodes.length > 0 ? h('p', { class: 'ids' }, p.nodes.join(', '), more > 0 ? ` and ${count(more)} more` : '') : null,
    h(
      'ul',
      { class: 'phases' },
      p.phases.map((ph) =>
        h(
          'li',
          {},
          `${ph.name} phase: ${count(ph.nodes)} node(s)`,
          ph.listeners.length > 0 ? ` (${ph.listeners.join(', ')})` : '',
          ph.batches > 1 ? `, in ${ph.batches} batches` : '',
        ),
      ),
    ),
    h('p', {}, `Method ${p.spec.method}, deadline ${p.spec.deadlineSeconds}s per node, drained at ${drainedAtText(p.spec)}.`),
    p.warnings.length > 0
      ? h(
          'ul',
          { class: 'warnings' },
          p.warnings.map((w) => h('li', {}, w)),
        )
      : null,
  );
}

const NODE_ERROR = /^node (\S+): (.*)$/s;
const IDS_SHOWN = 10;

/**
 * One line per distinct error, with the nodes it is about: a check that fails on every node
 * (no admin address, say) says so once, not once per node.
 */
function groupErrors(errors: readonly FieldError[]): { text: string; nodes: string[] }[] {
  const groups = new Map<string, string[]>();
  for (const e of errors) {
    const [, node, why] = NODE_ERROR.exec(e.message) ?? [undefined, undefined, e.message];
    const text = e.field ? `${e.field}: ${why}` : why;
    const nodes = groups.get(text) ?? [];
    if (node !== undefined) nodes.push(node);
    groups.set(text, nodes);
  }
  return [...groups].map(([text, nodes]) => ({ text, nodes: nodes.sort(byIdNaturally) }));
}

function idsText(ids: readonly string[]): string {
  const more = ids.length - IDS_SHOWN;
  return ids.slice(0, IDS_SHOWN).join(', ') + (more > 0 ? ` and ${count(more)} more` : '');
}

function fillDatalist(id: string, values: readonly string[]): void {
  const list = byId(id);
  const wanted = [...new Set(values)].filter(Boolean).sort();
  if ([...list.children].map((o) => (o as HTMLOptionElement).value).join('\0') === wanted.join('\0')) return;
  list.replaceChildren(...wanted.map((v) => h('option', { value: v })));
}
