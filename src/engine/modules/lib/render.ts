// A role template file rendered by its kind: `*.hbs` with handlebars (relay-play's own roles), any
// other (`*.j2`, as in Ansible roles) with Jinja.
import { readFileSync } from 'node:fs';
import type { PlanContext } from '../types.js';

export function renderTemplateFile(ctx: PlanContext, src: string): string {
  const file = ctx.resolveLocal(src, 'templates');
  const text = readFileSync(file, 'utf8');
  return file.endsWith('.hbs') ? ctx.renderHandlebars(text) : ctx.render(text, file);
}
