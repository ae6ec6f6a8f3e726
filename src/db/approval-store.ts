import type { Approval } from "../core/gate.js";
import type { Queryable } from "./db.js";

interface ApprovalRow {
  id: string;
  branch_id: string;
  head: string;
  gate: string;
  reviewer: string;
  verdict: Approval["verdict"];
  comment: string | null;
  created_at: Date;
  [key: string]: unknown;
}

const columns = "id, branch_id, head, gate, reviewer, verdict, comment, created_at";

const toApproval = (row: ApprovalRow): Approval => ({
  id: row.id,
  branchId: row.branch_id,
  head: row.head,
  gate: row.gate,
  reviewer: row.reviewer,
  verdict: row.verdict,
  comment: row.comment ?? undefined,
  createdAt: row.created_at.toISOString(),
});

export async function insertApproval(q: Queryable, approval: Omit<Approval, "createdAt">): Promise<Approval> {
  const rows = await q.query<ApprovalRow>(`INSERT INTO approvals (id, branch_id, head, gate, reviewer, verdict, comment) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${columns}`, [
    approval.id,
    approval.branchId,
    approval.head,
    approval.gate,
    approval.reviewer,
    approval.verdict,
    approval.comment ?? null,
  ]);
  return toApproval(rows[0]!);
}

/** The verdicts given on one commit of a branch, oldest first; of one gate when named. */
export async function approvalsOf(q: Queryable, branchId: string, head: string, gate?: string): Promise<Approval[]> {
  const rows = await q.query<ApprovalRow>(`SELECT ${columns} FROM approvals WHERE branch_id = $1 AND head = $2 AND ($3::text IS NULL OR gate = $3) ORDER BY id`, [branchId, head, gate ?? null]);
  return rows.map(toApproval);
}
