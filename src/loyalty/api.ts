import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import type { LoginThrottle } from '../kernel/auth/login-throttle.js';
import type { TokenService } from '../kernel/auth/tokens.js';
import { TOKEN_COOKIE, authGuard } from '../kernel/http/auth.js';
import { Session, registerAuthRoutes } from '../kernel/http/auth-routes.js';
import { parseJsonText } from '../kernel/http/body.js';
import { badRequest, unauthorized } from '../kernel/http/errors.js';
import { ErrorBody, type HttpApp } from '../kernel/http/server.js';
import { hundredthsToNumber, parsePositiveAmount } from '../kernel/money.js';
import { formatRfc3339 } from '../kernel/time.js';
import { checkOrderNumber, type LoyaltyService, type OrderNumberProblem } from './service.js';

const Err = Type.Ref(ErrorBody);

const LoggedOut = Type.Object({ status: Type.Literal('signed out') });

const OrderStatus = Type.Union([Type.Literal('NEW'), Type.Literal('PROCESSING'), Type.Literal('INVALID'), Type.Literal('PROCESSED')]);
const Order = Type.Object({
  number: Type.String(),
  status: OrderStatus,
  accrual: Type.Optional(Type.Number({ description: 'present only when PROCESSED and non-zero' })),
  uploaded_at: Type.String({ format: 'date-time' }),
});
const UploadedOrder = Type.Object({ number: Type.String(), status: OrderStatus });
const Balance = Type.Object({ current: Type.Number(), withdrawn: Type.Number() });
const WithdrawRequest = Type.Object({ order: Type.String(), sum: Type.Number() });
const Withdrawal = Type.Object({ order: Type.String(), sum: Type.Number(), processed_at: Type.String({ format: 'date-time' }) });
const EmptyJson = Type.Null({ description: 'no content (Content-Type: application/json)' });

const orderNumberMessages: Record<OrderNumberProblem, string> = {
  empty: 'order number is empty',
  not_digits: 'order number must be decimal digits',
  too_long: 'order number is too long',
  fails_luhn: 'order number fails the Luhn check',
};

function userId(request: FastifyRequest): number {
  const id = Number(request.subject);
  if (!Number.isSafeInteger(id) || id <= 0) throw unauthorized();
  return id;
}

/**
 * The order number from a text/plain body, or from JSON `{"order_number": …}` / `{"number": …}`
 * / a bare JSON string. Surrounding white space is ignored.
 */
export function orderNumberFromBody(body: unknown, contentType: string | undefined): string {
  if (typeof body !== 'string') throw badRequest('request body must hold an order number');
  const text = body.trim();
  const looksJson = /^application\/([\w.+-]*\+)?json\b/i.test(contentType ?? '') || text.startsWith('{') || text.startsWith('"');
  if (!looksJson) return text;
  const value = parseJsonText(text);
  const candidate =
    typeof value === 'object' && value !== null && !Array.isArray(value)
      ? ((value as Record<string, unknown>).order_number ?? (value as Record<string, unknown>).number)
      : value;
  if (typeof candidate === 'string') return candidate.trim();
  if (typeof candidate === 'number' && Number.isSafeInteger(candidate) && candidate >= 0) return String(candidate);
  throw badRequest('JSON body must be {"order_number": "<digits>"}');
}

async function sendList<T>(reply: FastifyReply, items: T[]): Promise<T[] | undefined> {
  if (items.length === 0) {
    await reply.code(204).header('content-type', 'application/json').send();
    return undefined;
  }
  return items;
}

export function registerLoyaltyRoutes(app: HttpApp, service: LoyaltyService, tokens: TokenService, throttle: LoginThrottle): void {
  const guard = authGuard(tokens);
  const security: Array<Record<string, string[]>> = [{ bearer: [] }, { cookie: [] }];

  registerAuthRoutes(app, { register: '/api/user/register', login: '/api/user/login' }, service.accounts, tokens, throttle);

  app.get(
    '/api/user/me',
    {
      onRequest: guard,
      schema: {
        tags: ['auth'],
        summary: 'Who the token belongs to',
        description: 'Lets a browser app holding only the HttpOnly cookie find out, after a reload, whether it is still signed in.',
        security,
        response: { 200: Session, 401: Err, 500: Err },
      },
    },
    async (request) => {
      const login = await service.loginOf(userId(request));
      if (login === undefined) throw unauthorized();
      return { login };
    },
  );

  app.post(
    '/api/user/logout',
    {
      schema: {
        tags: ['auth'],
        summary: 'Sign out: clear the token cookie',
        description: 'Always 200, with or without a valid token. Tokens are stateless JWTs: a copy of the token kept elsewhere stays valid until it expires.',
        response: { 200: LoggedOut, 500: Err },
      },
    },
    async (_request, reply) => {
      reply.clearCookie(TOKEN_COOKIE, { httpOnly: true, sameSite: 'lax', path: '/' });
      return { status: 'signed out' as const };
    },
  );

  app.post(
    '/api/user/orders',
    {
      onRequest: guard,
      config: { textBody: true },
      schema: {
        tags: ['orders'],
        summary: 'Upload an order number',
        description: 'Body: the number as text/plain (white space ignored), or JSON `{"order_number": "…"}` / `{"number": "…"}`.',
        security,
        consumes: ['text/plain', 'application/json'],
        response: { 200: UploadedOrder, 202: UploadedOrder, 400: Err, 401: Err, 409: Err, 422: Err, 500: Err },
      },
    },
    async (request, reply) => {
      const id = userId(request);
      const number = orderNumberFromBody(request.body, request.headers['content-type']);
      const problem = checkOrderNumber(number);
      if (problem === 'empty') throw badRequest(orderNumberMessages.empty);
      if (problem) return reply.code(422).send({ error: orderNumberMessages[problem] });
      const result = await service.uploadOrder(id, number);
      switch (result.outcome) {
        case 'accepted':
          return reply.code(202).send({ number, status: 'NEW' });
        case 'already_yours':
          return reply.code(200).send({ number, status: result.status ?? 'NEW' });
        case 'taken':
          return reply.code(409).send({ error: 'order number was already uploaded by another user' });
        case 'unknown_user':
          throw unauthorized();
      }
    },
  );

  app.get(
    '/api/user/orders',
    {
      onRequest: guard,
      schema: {
        tags: ['orders'],
        summary: "The caller's orders, oldest upload first",
        security,
        response: { 200: Type.Array(Order), 204: EmptyJson, 401: Err, 500: Err },
      },
    },
    async (request, reply) => {
      const rows = await service.listOrders(userId(request));
      return sendList(
        reply,
        rows.map((o) => ({
          number: o.number,
          status: o.status,
          ...(o.status === 'PROCESSED' && o.accrual > 0 ? { accrual: hundredthsToNumber(o.accrual) } : {}),
          uploaded_at: formatRfc3339(o.uploaded_at),
        })),
      );
    },
  );

  app.get(
    '/api/user/balance',
    {
      onRequest: guard,
      schema: { tags: ['balance'], summary: 'Current points and total withdrawn', security, response: { 200: Balance, 401: Err, 500: Err } },
    },
    async (request) => {
      const balance = await service.balance(userId(request));
      if (!balance) throw unauthorized();
      return { current: hundredthsToNumber(balance.current), withdrawn: hundredthsToNumber(balance.withdrawn) };
    },
  );

  app.post(
    '/api/user/balance/withdraw',
    {
      onRequest: guard,
      schema: {
        tags: ['balance'],
        summary: 'Spend points on an order',
        description: 'Repeating an identical withdrawal (same user, order and sum) answers 200 without charging again.',
        security,
        body: WithdrawRequest,
        response: { 200: Withdrawal, 400: Err, 401: Err, 402: Err, 409: Err, 422: Err, 500: Err },
      },
    },
    async (request, reply) => {
      const id = userId(request);
      const order = request.body.order.trim();
      const problem = checkOrderNumber(order);
      if (problem === 'empty') throw badRequest('order is required');
      if (problem) return reply.code(422).send({ error: orderNumberMessages[problem] });
      const amount = parsePositiveAmount(request.body.sum);
      if (!amount.ok) return reply.code(422).send({ error: 'sum must be a positive amount with at most 2 decimals' });
      const result = await service.withdraw(id, order, amount.hundredths);
      switch (result.outcome) {
        case 'done':
        case 'repeat':
          return { order, sum: hundredthsToNumber(amount.hundredths), processed_at: formatRfc3339(result.processedAt) };
        case 'insufficient':
          return reply.code(402).send({ error: 'not enough points' });
        case 'conflict':
          return reply.code(409).send({ error: 'a different withdrawal already used this order number' });
        case 'unknown_user':
          throw unauthorized();
      }
    },
  );

  app.get(
    '/api/user/withdrawals',
    {
      onRequest: guard,
      schema: {
        tags: ['balance'],
        summary: "The caller's withdrawals, oldest first",
        security,
        response: { 200: Type.Array(Withdrawal), 204: EmptyJson, 401: Err, 500: Err },
      },
    },
    async (request, reply) => {
      const rows = await service.listWithdrawals(userId(request));
      return sendList(
        reply,
        rows.map((w) => ({ order: w.order_number, sum: hundredthsToNumber(w.amount), processed_at: formatRfc3339(w.processed_at) })),
      );
    },
  );
}
