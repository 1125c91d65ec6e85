import { renderDiff } from './diff.js';
import type { KindDefinition, KindRules } from './kind.js';
import { parseRoutesYaml } from './routes-file.js';

/** The format of the kinds whose payload is a whole egress routes file (their rules: builtin-rules.ts). */
export function routesFileKind(rules: KindRules): KindDefinition {
  return {
    ...rules,
    parse: parseRoutesYaml,
    render: (payload) => payload,
    diff: (current, proposed) => renderDiff(current, proposed, rules.name),
  };
}
