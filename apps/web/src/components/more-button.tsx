interface MoreButtonProps {
  /** What it fetches, for its label: "More people". */
  label: string;
  className: string;
  /** The infinite query whose next page it fetches. */
  pages: { hasNextPage: boolean; isFetchingNextPage: boolean; fetchNextPage(): unknown };
}

/** Fetches the next page of a list, while there is one; says so while it does. */
export function MoreButton({ label, className, pages }: MoreButtonProps) {
  if (!pages.hasNextPage) return null;
  const loading = pages.isFetchingNextPage;
  return (
    <button
      type="button"
      className={className}
      disabled={loading}
      aria-busy={loading || undefined}
      onClick={() => void pages.fetchNextPage()}
    >
      {loading ? 'Loading…' : label}
    </button>
  );
}
