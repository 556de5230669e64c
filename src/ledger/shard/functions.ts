import type { Database } from '../../kernel/db/database.js';
import { MAX_BALANCE_HUNDREDTHS } from '../../kernel/money.js';

/**
 * The shard's operations as PL/pgSQL functions, in their current form: applied with
 * CREATE OR REPLACE at every start-up (under an advisory lock, so several shard processes
 * starting on one schema do not race), so this file is the one source of the logic and the
 * migrations keep only tables. Each operation is one function: one statement, hence one
 * round trip and one implicit transaction, with row locks held only while it runs. 'repeat'
 * means the transaction id was already known: the store answers from the recorded row.
 *
 * Every credit — deposit, local transfer, pending credit — is refused (`balance_limit`) when
 * it would take the receiving wallet's balance plus its open pending credits (`incoming`)
 * above MAX_BALANCE_HUNDREDTHS. A pending credit counts in `incoming` from its reserve until
 * its confirm or cancel, so a confirm always fits: it never fails after a commit decision.
 */
export function shardFunctions(schema: string): string {
  const s = schema;
  const max = String(MAX_BALANCE_HUNDREDTHS);
  return `
    create or replace function ${s}.refuse(p_tx text, p_reason text, p_wallet text) returns void language sql as $fn$
      update ${s}.transactions
      set state = 'cancelled', reason = p_reason, missing_wallet = case when p_reason = 'unknown_wallet' then p_wallet end, updated_at = now()
      where tx_id = p_tx
    $fn$;

    create or replace function ${s}.reserve(p_tx text, p_wallet text, p_kind text, p_amount bigint, out o_result text, out o_wallet text) language plpgsql as $fn$
    begin
      insert into ${s}.transactions (tx_id, kind, wallet_id, amount, state) values (p_tx, p_kind, p_wallet, p_amount, 'reserved')
      on conflict (tx_id) do nothing;
      if not found then o_result := 'repeat'; return; end if;
      if p_kind = 'debit-hold' then
        -- conditional under the row lock: concurrent holds can never overdraw
        update ${s}.wallets set reserved = reserved + p_amount where id = p_wallet and balance - reserved >= p_amount;
        if found then o_result := 'reserved'; return; end if;
        perform 1 from ${s}.wallets where id = p_wallet;
        if found then
          perform ${s}.refuse(p_tx, 'insufficient_funds', p_wallet);
          o_result := 'insufficient_funds'; return;
        end if;
      else
        -- counted in incoming under the row lock: concurrent pending credits cannot pass the maximum
        update ${s}.wallets set incoming = incoming + p_amount where id = p_wallet and balance + incoming + p_amount <= ${max};
        if found then o_result := 'reserved'; return; end if;
        perform 1 from ${s}.wallets where id = p_wallet;
        if found then
          perform ${s}.refuse(p_tx, 'balance_limit', p_wallet);
          o_result := 'balance_limit'; return;
        end if;
      end if;
      perform ${s}.refuse(p_tx, 'unknown_wallet', p_wallet);
      o_result := 'unknown_wallet'; o_wallet := p_wallet;
    end
    $fn$;

    create or replace function ${s}.transfer(p_tx text, p_from text, p_to text, p_amount bigint, out o_result text, out o_wallet text) language plpgsql as $fn$
    declare
      v_available bigint;
      v_receiving bigint;
    begin
      insert into ${s}.transactions (tx_id, kind, wallet_id, counterparty, amount, state) values (p_tx, 'transfer', p_from, p_to, p_amount, 'confirmed')
      on conflict (tx_id) do nothing;
      if not found then o_result := 'repeat'; return; end if;
      -- both rows locked in id order: opposite transfers between one pair cannot deadlock
      perform 1 from ${s}.wallets where id in (p_from, p_to) order by id for update;
      select balance - reserved into v_available from ${s}.wallets where id = p_from;
      if not found then o_wallet := p_from;
      else
        select balance + incoming into v_receiving from ${s}.wallets where id = p_to;
        if not found then o_wallet := p_to; end if;
      end if;
      if o_wallet is not null then
        perform ${s}.refuse(p_tx, 'unknown_wallet', o_wallet);
        o_result := 'unknown_wallet'; return;
      end if;
      if v_available < p_amount then
        perform ${s}.refuse(p_tx, 'insufficient_funds', p_from);
        o_result := 'insufficient_funds'; return;
      end if;
      if v_receiving + p_amount > ${max} then
        perform ${s}.refuse(p_tx, 'balance_limit', p_to);
        o_result := 'balance_limit'; return;
      end if;
      update ${s}.wallets set balance = balance + case when id = p_to then p_amount else -p_amount end where id in (p_from, p_to);
      o_result := 'confirmed';
    end
    $fn$;

    create or replace function ${s}.deposit(p_tx text, p_wallet text, p_amount bigint, out o_result text, out o_wallet text) language plpgsql as $fn$
    begin
      insert into ${s}.transactions (tx_id, kind, wallet_id, amount, state) values (p_tx, 'deposit', p_wallet, p_amount, 'confirmed')
      on conflict (tx_id) do nothing;
      if not found then o_result := 'repeat'; return; end if;
      update ${s}.wallets set balance = balance + p_amount where id = p_wallet and balance + incoming + p_amount <= ${max};
      if found then o_result := 'confirmed'; return; end if;
      perform 1 from ${s}.wallets where id = p_wallet;
      if found then
        perform ${s}.refuse(p_tx, 'balance_limit', p_wallet);
        o_result := 'balance_limit'; return;
      end if;
      perform ${s}.refuse(p_tx, 'unknown_wallet', p_wallet);
      o_result := 'unknown_wallet'; o_wallet := p_wallet;
    end
    $fn$;

    create or replace function ${s}.confirm(p_tx text, out o_result text) language plpgsql as $fn$
    declare
      v_state text;
    begin
      for attempt in 1..3 loop
        -- the state flip and the balance change happen together or not at all
        with t as (
          update ${s}.transactions set state = 'confirmed', updated_at = now() where tx_id = p_tx and state = 'reserved' returning kind, wallet_id, amount)
        update ${s}.wallets w
        set balance = w.balance + case when t.kind = 'debit-hold' then -t.amount else t.amount end,
            reserved = w.reserved - case when t.kind = 'debit-hold' then t.amount else 0 end,
            incoming = w.incoming - case when t.kind = 'pending-credit' then t.amount else 0 end
        from t where w.id = t.wallet_id;
        if found then o_result := 'confirmed'; return; end if;
        select state into v_state from ${s}.transactions where tx_id = p_tx;
        if not found then o_result := 'not_found'; return; end if;
        if v_state <> 'reserved' then
          o_result := case when v_state = 'cancelled' then 'cancelled' else 'confirmed' end; return;
        end if;
        -- reserved, committed after the update's snapshot: apply it now
      end loop;
      raise exception 'transaction % stays reserved', p_tx;
    end
    $fn$;

    -- Dispatch, so that one statement can run a batch of operations (see ShardStore).
    create or replace function ${s}.apply(p_op text, p_tx text, p_wallet text, p_kind text, p_counterparty text, p_amount bigint,
                               out o_result text, out o_reason text, out o_wallet text) language plpgsql as $fn$
    begin
      case p_op
        when 'reserve' then select r.o_result, r.o_wallet into o_result, o_wallet from ${s}.reserve(p_tx, p_wallet, p_kind, p_amount) r;
        when 'transfer' then select r.o_result, r.o_wallet into o_result, o_wallet from ${s}.transfer(p_tx, p_wallet, p_counterparty, p_amount) r;
        when 'deposit' then select r.o_result, r.o_wallet into o_result, o_wallet from ${s}.deposit(p_tx, p_wallet, p_amount) r;
        when 'confirm' then select r.o_result into o_result from ${s}.confirm(p_tx) r;
        when 'cancel' then select r.o_result, r.o_reason, r.o_wallet into o_result, o_reason, o_wallet from ${s}.cancel(p_tx) r;
        else raise exception 'unknown shard operation %', p_op;
      end case;
    end
    $fn$;

    create or replace function ${s}.cancel(p_tx text, out o_result text, out o_reason text, out o_wallet text) language plpgsql as $fn$
    declare
      r record;
    begin
      -- nothing known yet: a tombstone, so the reserve is refused if it ever arrives
      insert into ${s}.transactions (tx_id, kind, state, reason) values (p_tx, 'tombstone', 'cancelled', 'cancelled')
      on conflict (tx_id) do nothing;
      if found then o_result := 'cancelled'; o_reason := 'cancelled'; return; end if;
      select t.kind, t.wallet_id, t.amount, t.state, t.reason, t.missing_wallet into r from ${s}.transactions t where t.tx_id = p_tx for update;
      if not found then raise exception 'transaction % conflicted but is not readable', p_tx; end if;
      if r.state = 'confirmed' then o_result := 'confirmed'; return; end if;
      if r.state = 'cancelled' then
        o_result := 'cancelled'; o_reason := coalesce(r.reason, 'cancelled'); o_wallet := r.missing_wallet; return;
      end if;
      if r.kind = 'debit-hold' then
        update ${s}.wallets set reserved = reserved - r.amount where id = r.wallet_id;
      elsif r.kind = 'pending-credit' then
        update ${s}.wallets set incoming = incoming - r.amount where id = r.wallet_id;
      end if;
      update ${s}.transactions set state = 'cancelled', reason = 'cancelled', updated_at = now() where tx_id = p_tx;
      o_result := 'cancelled'; o_reason := 'cancelled';
    end
    $fn$;

    -- apply, plus (for a repeated reserve/transfer/deposit) the transaction as it stands at
    -- that point of the statement: a later operation of the same batch (say its confirm)
    -- must not change what the repeat answers, which is what the first execution decided
    create or replace function ${s}.apply_op(p_op text, p_tx text, p_wallet text, p_kind text, p_counterparty text, p_amount bigint,
                                  out o_result text, out o_reason text, out o_wallet text,
                                  out r_kind text, out r_wallet text, out r_counterparty text, out r_amount bigint,
                                  out r_state text, out r_reason text, out r_missing text) language plpgsql as $fn$
    begin
      select a.o_result, a.o_reason, a.o_wallet into o_result, o_reason, o_wallet
      from ${s}.apply(p_op, p_tx, p_wallet, p_kind, p_counterparty, p_amount) a;
      if o_result = 'repeat' then
        select t.kind, t.wallet_id, t.counterparty, t.amount, t.state, t.reason, t.missing_wallet
        into r_kind, r_wallet, r_counterparty, r_amount, r_state, r_reason, r_missing
        from ${s}.transactions t where t.tx_id = p_tx;
        if not found then raise exception 'transaction % conflicted but is not readable', p_tx; end if;
      end if;
    end
    $fn$;
  `;
}

/** Installs (or replaces) the functions in `schema`; idempotent. */
export async function installShardFunctions(db: Database, schema: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock(hashtext($1)::bigint)', [`functions:${schema}`]);
    await tx.exec(shardFunctions(schema));
  });
}
