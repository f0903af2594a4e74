// Applies the theme chosen in this browser before the first paint (see src/lib/theme.ts).
// A file, not an inline script: the server's content security policy allows only 'self'.
try {
  const theme = localStorage.getItem('pneumatic.theme');
  if (theme === 'light' || theme === 'dark') document.documentElement.dataset.theme = theme;
} catch {
  // No storage: the page follows the system.
}
