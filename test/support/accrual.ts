import { withLuhnCheckDigit } from '../../src/kernel/luhn.js';
import { call, type Reply } from './http.js';

let counter = 0;

/** A fresh Luhn-valid order number, unique across test processes: the one source of the tests' order numbers (loyalty and accrual alike). */
export function orderNumber(): string {
  counter++;
  return withLuhnCheckDigit(`${Date.now()}${process.pid}${String(counter).padStart(4, '0')}${Math.floor(Math.random() * 1000)}`);
}

export interface GoodIn {
  description: string;
  price: number;
}

export function postRule(base: string, match: string, reward: number, rewardType: '%' | 'pt'): Promise<Reply> {
  return call(base, 'POST', '/api/goods', { body: { match, reward, reward_type: rewardType } });
}

export function postOrder(base: string, order: string, goods: GoodIn[]): Promise<Reply> {
  return call(base, 'POST', '/api/orders', { body: { order, goods } });
}

export interface OrderState {
  order: string;
  status: string;
  accrual?: number;
}

export async function getOrder(base: string, number: string): Promise<{ status: number; body?: OrderState; reply: Reply }> {
  const reply = await call(base, 'GET', `/api/orders/${number}`);
  return { status: reply.status, body: reply.status === 200 ? (reply.json as OrderState) : undefined, reply };
}

/** Polls until the order is final (PROCESSED/INVALID); fails after `timeoutMs`. */
export async function waitFinal(base: string, number: string, timeoutMs = 10_000): Promise<OrderState> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await getOrder(base, number);
    if (r.status !== 200 || !r.body) throw new Error(`GET ${number}: ${r.status} ${r.reply.text}`);
    if (r.body.status === 'PROCESSED' || r.body.status === 'INVALID') return r.body;
    if (Date.now() > deadline) throw new Error(`order ${number} still ${r.body.status} after ${timeoutMs} ms`);
    await new Promise((res) => setTimeout(res, 25));
  }
}

/** Sum of a Prometheus counter's samples whose labels contain `labelText`. */
export async function counterValue(base: string, name: string, labelText = ''): Promise<number> {
  const r = await call(base, 'GET', '/metrics');
  let sum = 0;
  for (const line of r.text.split('\n')) {
    if (!line.startsWith(`${name}{`) || !line.includes(labelText)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}
