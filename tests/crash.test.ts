import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditStore } from '../src/audit/audit-store.js';
import { openConnection } from '../src/storage/connection.js';
import { openHostDatabase } from '../src/database.js';
import { Children, type FixtureChild } from './fixtures/wake-children.js';

const ITERATIONS = 200;
/** Children loaded ahead (tsx start-up is the slow part), each waiting for "go" before it opens the DB. */
const PRELOADED = 2;

type Op = 'enqueue' | 'respond' | 'archive';

interface DbState {
  integrity: string;
  states: Map<string, string>;
  responses: Set<string>;
  decisions: Map<string, number>;
  auditOk: boolean | string;
}

/** What a fresh connection from this process (not the killed writer's) finds after recovery. */
function inspect(file: string): DbState {
  const db = openConnection(file, { fileMustExist: true });
  try {
    const verification = new AuditStore(db).verify();
    return {
      integrity: db.pragma('integrity_check', { simple: true }) as string,
      states: new Map((db.prepare('SELECT id, state FROM proposals').all() as Array<{ id: string; state: string }>).map((row) => [row.id, row.state])),
      responses: new Set(db.prepare('SELECT proposal_id FROM responses').pluck().all() as string[]),
      decisions: new Map(
        (db.prepare(`SELECT proposal_id AS id, count(*) AS n FROM audit_entries WHERE action = 'proposal-decision' GROUP BY proposal_id`).all() as Array<{ id: string; n: number }>).map(
          (row) => [row.id, row.n],
        ),
      ),
      auditOk: verification.ok || `entry ${verification.firstBad.seq}: ${verification.firstBad.reason}`,
    };
  } finally {
    db.close();
  }
}

/** Everything that must hold after a kill; returns the problems so one failure names them all. */
function problems(state: DbState, acked: Map<Op, Set<string>>): string[] {
  const found: string[] = [];
  if (state.integrity !== 'ok') found.push(`integrity_check: ${state.integrity}`);
  if (state.auditOk !== true) found.push(`audit verify: ${state.auditOk}`);
  for (const id of acked.get('enqueue') ?? []) if (!state.states.has(id)) found.push(`acknowledged enqueue ${id} is missing`);
  for (const id of acked.get('respond') ?? []) {
    if (!state.responses.has(id)) found.push(`acknowledged response to ${id} is missing`);
    if (!['answered', 'archived'].includes(state.states.get(id) ?? '')) found.push(`acknowledged response to ${id}, but the proposal is ${state.states.get(id)}`);
  }
  for (const id of acked.get('archive') ?? []) if (state.states.get(id) !== 'archived') found.push(`acknowledged archive of ${id}, but it is ${state.states.get(id)}`);
  for (const id of state.responses) if (state.decisions.get(id) !== 1) found.push(`response to ${id} has ${state.decisions.get(id) ?? 0} decision audit entries`);
  for (const id of state.decisions.keys()) if (!state.responses.has(id)) found.push(`decision audit entry for ${id} has no response`);
  for (const [id, proposalState] of state.states) {
    const answered = proposalState === 'answered' || proposalState === 'archived';
    if (answered !== state.responses.has(id)) found.push(`proposal ${id} is ${proposalState} ${state.responses.has(id) ? 'with' : 'without'} a response`);
  }
  return found;
}

describe('crash safety: a writer SIGKILLed at random moments', () => {
  const children = new Children();
  let dir: string;
  let file: string;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'crash-'));
    file = path.join(dir, 'bot-bottle.db');
    await (await openHostDatabase({ path: file, watch: false })).close();
  });

  afterAll(async () => {
    await children.killAll();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it(
    `loses nothing acknowledged and tears nothing over ${ITERATIONS} kills`,
    async () => {
      const acked = new Map<Op, Set<string>>([
        ['enqueue', new Set()],
        ['respond', new Set()],
        ['archive', new Set()],
      ]);
      const preloaded: FixtureChild[] = [];
      const preload = (): void => {
        while (preloaded.length < PRELOADED) preloaded.push(children.fixture('crash-writer.ts', [file]));
      };
      let killedWithAcks = 0;

      for (let iteration = 0; iteration < ITERATIONS; iteration += 1) {
        preload();
        const writer = preloaded.shift() as FixtureChild;
        writer.process.stdin?.write('go\n');
        await writer.nextEvent('ready');
        // Every other kill lands after the writer's first acknowledged write, so the writers get real
        // work done between kills however loaded the machine is (timed alone, a loaded machine kills
        // most writers before their first commit); the others land at any moment from start-up on.
        const firstAck = iteration % 2 === 1 ? [await writer.nextEvent('ack')] : [];
        await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 55));
        writer.kill();
        expect(await writer.exited).toEqual({ code: null, signal: 'SIGKILL' });
        preload();

        const acks = [...firstAck, ...writer.drain().filter((message) => message.event === 'ack')];
        for (const ack of acks) acked.get(ack.op as Op)?.add(ack.id as string);
        if (acks.length > 0) killedWithAcks += 1;

        const found = problems(inspect(file), acked);
        expect(found, `after kill ${iteration + 1}`).toEqual([]);
      }

      // The writers did real work between kills, and the last check covered all of it.
      expect(killedWithAcks).toBeGreaterThan(ITERATIONS / 4);
      expect(acked.get('archive')?.size).toBeGreaterThan(0);
    },
    // Two hundred child processes on two cores; the budget is generous on purpose (no timing is asserted).
    600_000,
  );
});
