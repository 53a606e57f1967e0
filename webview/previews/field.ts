/**
 * The score field page of a 2D run: the shared score-field view (webview/common/field.ts: arrows of the
 * learned and the true score, data points, animated Langevin particles) under the run's name.
 */
import { ScoreFieldView } from '../common/field';
import { card, h } from '../common/ui';
import type { Host } from './host';
import { runName } from './inpaint';

export class FieldPage {
  readonly el: HTMLElement;
  readonly view: ScoreFieldView;

  constructor(host: Host, readonly runDir: string) {
    this.view = new ScoreFieldView(host, runDir);
    this.el = h('main', { class: 'page field-page' },
      h('header', { class: 'page-head' }, h('h1', {}, 'Score field'), h('span', { class: 'run-name', title: runDir }, runName(runDir))),
      card('card-field', 'The score s(x, σ) at one noise level', this.view.el));
  }

  debug(): ReturnType<ScoreFieldView['debug']> {
    return this.view.debug();
  }
}
