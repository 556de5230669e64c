import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply } from 'fastify';
import { Type } from '@sinclair/typebox';
import { parseJsonText, selfReadBody } from '../../kernel/http/body.js';
import { NoItems, sendList } from '../../kernel/http/lists.js';
import { fail, kernelOutcomes, outcomeResponses } from '../../kernel/http/outcome.js';
import { isDigits } from '../../kernel/luhn.js';
import { hundredthsToNumber } from '../../kernel/money.js';
import { formatRfc3339 } from '../../kernel/time.js';
import { Order, OrderNumberJson, OrderNumberText, UploadedOrder, gophermartOutcomes, orderNumberOutcome } from '../contract.js';
import { checkOrderNumber } from '../service.js';
import type { OrderRow } from '../store.js';
import type { GophermartRouteOptions } from './options.js';

/**
 * The order number from a text/plain body, or from JSON `{"order_number": …}` / `{"number": …}`
 * / a bare JSON string. Surrounding white space is ignored. Digits alone are the number as
 * written, whatever the content type says. A JSON number inside an object is not taken: once
 * parsed it is a float, and `7992739871.3e1` or a 22-digit value would become some other
 * number's digits.
 */
export function orderNumberFromBody(body: unknown, contentType: string | undefined): string {
  if (typeof body !== 'string') fail(gophermartOutcomes.upload_unreadable);
  const text = body.trim();
  const looksJson = /^application\/([\w.+-]*\+)?json\b/i.test(contentType ?? '') || text.startsWith('{') || text.startsWith('"');
  if (!looksJson || isDigits(text)) return text;
  const value = parseJsonText(text);
  const candidate =
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? ((value as Record<string, unknown>).order_number ?? (value as Record<string, unknown>).number)
      : value;
  if (typeof candidate === 'string') return candidate.trim();
  if (typeof candidate === 'number') fail(gophermartOutcomes.order_not_digits);
  fail(gophermartOutcomes.upload_json_unreadable);
}

/** An order as the list shows it. */
function orderView(order: OrderRow): Order {
  return {
    number: order.number,
    status: order.status,
    ...(order.status === 'PROCESSED' && order.accrual > 0 ? { accrual: hundredthsToNumber(order.accrual) } : {}),
    uploaded_at: formatRfc3339(order.uploaded_at),
  };
}

/**
 * Rendered order lists by the rows they were rendered from. A user's rows kept by the read
 * model are one array until the user changes, so a polled list is rendered once per change
 * (mapping, time formatting and serialisation were a third of the read's CPU); rows read from
 * the database are a new array each time and their entry goes with them. Kept as bytes: sent as
 * a string, each answer would be encoded again, and Fastify would label a JSON string
 * `; charset=utf-8` for the kernel's onSend hook to take off again.
 */
const renderedLists = new WeakMap<readonly OrderRow[], Buffer>();

/** Upload an order number; list the caller's orders. */
export const orderRoutes: FastifyPluginAsyncTypebox<GophermartRouteOptions> = async (app, { service, signedIn }) => {
  const o = gophermartOutcomes;

  app.post(
    '/api/user/orders',
    {
      onRequest: signedIn,
      ...selfReadBody,
      schema: {
        tags: ['orders'],
        summary: 'Upload an order number',
        description:
          'Body: the number as text/plain (white space ignored), or JSON `{"order_number": "…"}` / `{"number": "…"}`. Digits alone are read as written whatever the content type.',
        body: { content: { 'text/plain': { schema: OrderNumberText }, 'application/json': { schema: OrderNumberJson } } },
        response: {
          200: { ...UploadedOrder, description: 'already uploaded by you: its current status' },
          202: { ...UploadedOrder, description: 'new number accepted for calculation' },
          ...outcomeResponses(
            o.upload_unreadable,
            o.upload_json_unreadable,
            o.order_empty,
            kernelOutcomes.unauthorized,
            o.order_taken,
            o.order_not_digits,
            o.order_too_long,
            o.order_fails_luhn,
            kernelOutcomes.internal,
            kernelOutcomes.database_unavailable,
          ),
        },
      },
    },
    async (request, reply) => {
      const number = orderNumberFromBody(request.body, request.headers['content-type']);
      const problem = checkOrderNumber(number);
      if (problem) fail(orderNumberOutcome[problem]);
      const result = await service.uploadOrder(request.userId, number);
      switch (result.outcome) {
        case 'accepted':
          return reply.code(202).send({ number, status: 'NEW' });
        case 'already_yours':
          return reply.code(200).send({ number, status: result.status ?? 'NEW' });
        case 'taken':
          return fail(o.order_taken);
        case 'unknown_user':
          return fail(kernelOutcomes.unauthorized);
      }
    },
  );

  app.get(
    '/api/user/orders',
    {
      onRequest: signedIn,
      schema: {
        tags: ['orders'],
        summary: "The caller's orders, oldest upload first",
        response: {
          200: { ...Type.Array(Order), description: 'the orders, oldest upload first' },
          204: NoItems,
          ...outcomeResponses(kernelOutcomes.unauthorized, kernelOutcomes.internal, kernelOutcomes.database_unavailable),
        },
      },
    },
    async (request, reply) => {
      const rows = await service.listOrders(request.userId);
      if (rows.length === 0) return sendList(reply, []);
      let body = renderedLists.get(rows);
      if (body === undefined) {
        body = Buffer.from(String(reply.serialize(rows.map(orderView))));
        renderedLists.set(rows, body);
      }
      // the body is already the route's 200 schema rendered by its own serialiser
      return (reply as FastifyReply).type('application/json').send(body);
    },
  );
};
