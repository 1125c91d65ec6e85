/**
 * The pending list's order across bottles: in turns, each bottle's oldest, then each one's second
 * oldest, and so on (oldest first within a turn), so one bottle's flood cannot bury another's
 * single question. `rows` must come oldest first (by `seq`); the result is a new array.
 */
export function fairOrder<T extends { slug: string; seq: number }>(rows: readonly T[]): T[] {
  const seen = new Map<string, number>();
  const turns = rows.map((row) => {
    const turn = seen.get(row.slug) ?? 0;
    seen.set(row.slug, turn + 1);
    return { row, turn };
  });
  // Array sort is stable: within a turn the rows keep their oldest-first order.
  return turns.sort((a, b) => a.turn - b.turn).map(({ row }) => row);
}
