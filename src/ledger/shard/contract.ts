import { type TLiteral, type TObject, type TSchema, type TUnion, Type } from '@sinclair/typebox';
import { outcomes } from '../../kernel/http/outcome.js';

/**
 * The shard's HTTP contract. Request bodies and result codes are the protocol's
 * (../protocol.ts), shared with the orchestrator; this adds what only the shard's routes need:
 * their refusals, and the answer schemas derived from the protocol's result unions.
 */

export const shardOutcomes = outcomes({
  wrong_token: { status: 401, message: 'missing or wrong shard token' },
  same_wallet: { status: 400, message: 'from_id and to_id must differ' },
});

/**
 * A protocol result union as one object schema: `result` is any of its codes and every other
 * field optional. Validation-wise the same answers; for the serializer one object instead of
 * an anyOf to try member by member (the batch route answers thousands of results a second).
 */
export function resultSchema(union: TUnion<TObject[]>, description: string): TObject {
  const codes: string[] = [];
  const fields: Record<string, TSchema> = {};
  for (const member of union.anyOf) {
    for (const [name, schema] of Object.entries(member.properties)) {
      if (name === 'result') codes.push(String((schema as TLiteral).const));
      else fields[name] ??= Type.Optional(schema);
    }
  }
  return Type.Object({ result: Type.Union(codes.map((c) => Type.Literal(c))), ...fields }, { description });
}
