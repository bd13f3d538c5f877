// Which modules a playbook may use. The engine registers its own (src/engine/modules/index.ts); an
// application builds its registry from that one with its own modules added (ModuleRegistry.with).
import type { Module } from './types.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each module has its own argument type
type AnyModule = Module<any>;

export class ModuleRegistry {
  private readonly byName: ReadonlyMap<string, AnyModule>;

  constructor(modules: Record<string, AnyModule>) {
    this.byName = new Map(Object.entries(modules));
  }

  /** This registry and `more`; a name already taken is refused (a module never hides another). */
  with(more: Record<string, AnyModule>): ModuleRegistry {
    const taken = Object.keys(more).filter((name) => this.byName.has(name));
    if (taken.length) throw new Error(`module names already registered: ${taken.join(', ')}`);
    return new ModuleRegistry({ ...Object.fromEntries(this.byName), ...more });
  }

  get(name: string): AnyModule | undefined {
    return this.byName.get(name);
  }

  names(): string[] {
    return [...this.byName.keys()];
  }

  /** Each distinct module once (aliases share one). */
  modules(): AnyModule[] {
    return [...new Set(this.byName.values())];
  }
}
