import type { Target } from '../core/target.js';
import { renderDiff } from './diff.js';
import type { KindDefinition } from './kind.js';
import { parseRoutesYaml } from './routes-file.js';

/** The three kinds whose payload is a whole egress routes file differ only in name, who answers and whether it can be edited. */
export function routesFileKind(name: string, target: Target, modifiable: boolean, description: string): KindDefinition {
  return {
    name,
    component: 'egress',
    target,
    modifiable,
    reasonRequiredToApprove: false,
    parse: parseRoutesYaml,
    render: (payload) => payload,
    diff: (current, proposed) => renderDiff(current, proposed, name),
    description,
  };
}
