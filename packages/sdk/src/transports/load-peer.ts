// Loads a transport's third-party client (an optional peer dependency) on first use, so memory:// users
// install and load none of them. Invariant: a missing client is one error naming the package to install.

/** `load()` is the adapter's own `import("pkg")` (a literal, so bundlers and type-checkers see it). */
export async function loadPeer<T>(pkg: string, scheme: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND" && String(e).includes(pkg)) {
      throw new Error(`${scheme}:// needs the ${pkg} package: npm install ${pkg}`);
    }
    throw e;
  }
}
