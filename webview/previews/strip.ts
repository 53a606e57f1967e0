/**
 * A browsable strip of training examples (highscore/datasetExamples): thumbnails for images, chips
 * with the coordinates for 2D points; single or multiple selection; pages of `count`.
 */
import * as P from '../../protocol/protocol';
import { formatNumber } from '../dashboard/series';
import { errorText } from '../common/requests';
import type { Host } from './host';
import { button, h, setText } from '../common/ui';

export class ExampleStrip {
  readonly el: HTMLElement;
  examples: P.DatasetExample[] = [];
  result: P.DatasetExamplesResult | null = null;
  readonly selected = new Set<number>();
  private offset = 0;
  private readonly items: HTMLElement;
  private readonly status: HTMLElement;

  constructor(
    private readonly host: Host,
    private readonly runDir: string,
    private readonly multiple: boolean,
    private readonly onChange: (selected: P.DatasetExample[]) => void,
    private readonly count = 16,
    extra: HTMLElement[] = [],
  ) {
    this.items = h('div', { class: 'strip-items', id: 'strip-items', role: 'listbox', 'aria-multiselectable': multiple ? 'true' : 'false' });
    this.status = h('span', { class: 'caption', id: 'strip-status' });
    this.el = h('div', { class: 'strip', id: 'strip' },
      h('div', { class: 'strip-bar' },
        button('‹', () => void this.load(this.offset - this.count), { id: 'strip-prev', secondary: true, title: 'Previous examples' }),
        this.items,
        button('›', () => void this.load(this.offset + this.count), { id: 'strip-next', secondary: true, title: 'Next examples' })),
      h('div', { class: 'strip-foot' }, this.status, ...extra));
  }

  async load(offset: number): Promise<void> {
    offset = Math.max(0, offset);
    setText(this.status, 'Loading examples…');
    try {
      const r = await this.host.request(P.DatasetExamples, { runDir: this.runDir, offset, count: this.count });
      this.result = r;
      this.offset = r.offset;
      this.examples = r.examples;
      this.render();
      const last = r.offset + r.examples.length;
      setText(this.status, `${r.name}: examples ${r.offset}–${last - 1} of ${r.size.toLocaleString('en-US')}. ${this.multiple ? 'Click to pick one or more.' : 'Click one to use it.'}`);
    } catch (e) {
      setText(this.status, `Could not load the examples: ${errorText(e)}`);
    }
  }

  /** Selects example `index` (when on the current page). */
  select(index: number, only = !this.multiple): void {
    if (only) this.selected.clear();
    if (this.selected.has(index) && !only) this.selected.delete(index);
    else this.selected.add(index);
    this.render();
    this.onChange(this.examples.filter((e) => this.selected.has(e.index)));
  }

  private render(): void {
    this.items.replaceChildren(...this.examples.map((e) => {
      const label = e.png ? `Example ${e.index}` : `#${e.index} (${(e.values as number[]).map((v) => formatNumber(v, 3)).join(', ')})`;
      const item = h('button', { class: 'strip-item', role: 'option', 'aria-selected': this.selected.has(e.index) ? 'true' : 'false', title: label, 'data-index': e.index },
        e.png ? h('img', { src: `data:image/png;base64,${e.png}`, alt: label }) : label);
      item.addEventListener('click', () => this.select(e.index));
      return item;
    }));
  }
}
