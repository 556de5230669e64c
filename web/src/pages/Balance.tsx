import { BalanceChart, balanceSteps } from '../components/Chart';
import { Card } from '../components/ui';
import type { MemberData } from '../data';
import { money } from '../format';
import { Link } from '../router';

export function BalancePage(props: { data: MemberData }) {
  const { balance, orders, withdrawals } = props.data;
  return (
    <>
      <h1 tabIndex={-1}>Balance</h1>
      <div class="stats">
        <div class="stat">
          <span class="stat-label">Current</span>
          <span class="stat-value" data-testid="balance-current">
            {balance ? money(balance.current) : '…'}
          </span>
          <span class="muted">points to spend · 1 point = 1.00 of your currency</span>
        </div>
        <div class="stat">
          <span class="stat-label">Spent</span>
          <span class="stat-value" data-testid="balance-withdrawn">
            {balance ? money(balance.withdrawn) : '…'}
          </span>
          <span class="muted">points spent so far</span>
        </div>
      </div>
      <Card title="Balance over time" id="history-chart">
        {orders && withdrawals ? <BalanceChart steps={balanceSteps(orders, withdrawals)} /> : <p class="muted">Loading…</p>}
      </Card>
      <p>
        {/* nothing until the balance is known, so the button does not change under the pointer */}
        {!balance ? null : balance.current > 0 ? (
          <Link href="/withdraw" class="button">
            Spend points
          </Link>
        ) : (
          <Link href="/orders" class="button">
            Upload an order to earn points
          </Link>
        )}
      </p>
    </>
  );
}
