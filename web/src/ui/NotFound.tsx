import { Link } from 'react-router';
import { Page } from './form';

/** Any path the console does not draw (a mistyped link, a page that moved). */
export function NotFound() {
  return (
    <Page title="Page not found">
      <p>
        There is no page at this address. <Link to="/">Go to your organizations</Link>
      </p>
    </Page>
  );
}
