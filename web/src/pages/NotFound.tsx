import { Link } from '../router';

/** Shown for any path that is not one of the app's pages (the server answers those with 404 too). */
export function NotFound(props: { signedIn: boolean }) {
  return (
    <section class="not-found" data-testid="not-found">
      <p class="not-found-code" aria-hidden="true">
        404
      </p>
      <h1 tabIndex={-1}>Page not found</h1>
      <p class="muted">
        There is no page at <span class="mono">{location.pathname}</span>. The link may be old, or the address mistyped.
      </p>
      <p class="actions">
        {props.signedIn ? (
          <>
            <Link href="/orders" class="button">
              Go to your orders
            </Link>
            <Link href="/balance">See your balance</Link>
          </>
        ) : (
          <Link href="/signin" class="button">
            Sign in
          </Link>
        )}
      </p>
    </section>
  );
}
