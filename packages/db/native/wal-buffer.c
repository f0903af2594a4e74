/*
 * wal-buffer: an SQLite VFS shim, loaded as an extension, that gathers the
 * frames a commit appends to a WAL file into one write.
 *
 * SQLite writes each WAL frame with two write() calls (its 24-byte header,
 * then the page), so a commit of a few hundred pages costs a few hundred
 * system calls; on a virtual machine each costs microseconds (see
 * docs/benchmarks.md). Here the appends are kept in memory and written
 * together when SQLite next does anything else with the file or the database
 * (above all the sync that ends a commit under synchronous=FULL), so what
 * reaches the disk, and when it is synced, is what SQLite asked for.
 *
 * Buffering is off until a connection asks for it with
 *   PRAGMA pneumatic_wal_buffer = 1
 * which it must do only under synchronous=FULL: then every commit syncs the
 * WAL before other connections are told of its frames, and a failed write
 * surfaces as the sync's error. (Without that sync, the first call after a
 * commit's frames can be xShmBarrier, which cannot report an error.)
 *
 * Registered as the default VFS on top of the one that was (unix), it passes
 * everything else through unchanged, for every connection of the process.
 */
#include <string.h>
#include <pthread.h>
#include "sqlite3ext.h"
SQLITE_EXTENSION_INIT1

#define SHIM_NAME "pneumatic-wal-buffer"
/*
 * A commit's frames go out in writes of at most this: 31 frames of 4 KiB
 * pages. The unix VFS writes at most 128 KiB - 1 bytes a call (it masks the
 * length with 0x1ffff).
 */
#define BUFFER_BYTES 0x1ffff

typedef struct ShimFile ShimFile;
struct ShimFile {
  sqlite3_file base;
  sqlite3_file *real; /* the underlying file, allocated after this struct */
  int isWal;
  /* A database file: buffering asked for; its open WAL, if any. */
  int bufferWal;
  ShimFile *wal;
  /* A WAL file: its database file; the appends not yet written. */
  ShimFile *db;
  unsigned char *buf;
  int used;
  sqlite3_int64 bufStart;
  /* A WAL file: writes asked for that were buffered, and writes made of them. */
  sqlite3_int64 gathered, flushes;
};

static sqlite3_vfs *root;
static sqlite3_vfs shim;
static sqlite3_io_methods shimMethods;

#define REAL(f) (((ShimFile *)(f))->real)
#define RM(f) (REAL(f)->pMethods)

/* Writes what is buffered; the buffer is empty afterwards whatever happened. */
static int flush(ShimFile *p) {
  int rc = SQLITE_OK;
  if (p && p->used > 0) {
    rc = p->real->pMethods->xWrite(p->real, p->buf, p->used, p->bufStart);
    p->used = 0;
    p->flushes++;
  }
  return rc;
}

/* For a database file, its WAL's buffer; for a WAL, its own. */
static int flushFor(sqlite3_file *f) {
  ShimFile *p = (ShimFile *)f;
  return flush(p->isWal ? p : p->wal);
}

static int shimClose(sqlite3_file *f) {
  ShimFile *p = (ShimFile *)f;
  int rc = flushFor(f);
  if (p->isWal) {
    if (p->db && p->db->wal == p) p->db->wal = 0;
    sqlite3_free(p->buf);
    p->buf = 0;
  } else if (p->wal) {
    p->wal->db = 0;
  }
  int rc2 = RM(f)->xClose(REAL(f));
  return rc != SQLITE_OK ? rc : rc2;
}

static int shimRead(sqlite3_file *f, void *out, int amount, sqlite3_int64 offset) {
  ShimFile *p = (ShimFile *)f;
  if (p->isWal && p->used > 0) {
    int rc = flush(p);
    if (rc != SQLITE_OK) return rc;
  }
  return RM(f)->xRead(REAL(f), out, amount, offset);
}

static int shimWrite(sqlite3_file *f, const void *data, int amount, sqlite3_int64 offset) {
  ShimFile *p = (ShimFile *)f;
  if (!p->isWal || !p->db || !p->db->bufferWal || amount > BUFFER_BYTES) {
    int rc = flush(p);
    return rc != SQLITE_OK ? rc : RM(f)->xWrite(REAL(f), data, amount, offset);
  }
  if (p->used > 0 && (offset != p->bufStart + p->used || p->used + amount > BUFFER_BYTES)) {
    int rc = flush(p);
    if (rc != SQLITE_OK) return rc;
  }
  if (!p->buf) {
    p->buf = sqlite3_malloc(BUFFER_BYTES);
    if (!p->buf) return RM(f)->xWrite(REAL(f), data, amount, offset);
  }
  if (p->used == 0) p->bufStart = offset;
  memcpy(p->buf + p->used, data, amount);
  p->used += amount;
  p->gathered++;
  return SQLITE_OK;
}

static int shimTruncate(sqlite3_file *f, sqlite3_int64 size) {
  int rc = flushFor(f);
  return rc != SQLITE_OK ? rc : RM(f)->xTruncate(REAL(f), size);
}

static int shimSync(sqlite3_file *f, int flags) {
  int rc = flushFor(f);
  return rc != SQLITE_OK ? rc : RM(f)->xSync(REAL(f), flags);
}

static int shimFileSize(sqlite3_file *f, sqlite3_int64 *size) {
  int rc = flushFor(f);
  return rc != SQLITE_OK ? rc : RM(f)->xFileSize(REAL(f), size);
}

static int shimLock(sqlite3_file *f, int level) {
  int rc = flushFor(f);
  return rc != SQLITE_OK ? rc : RM(f)->xLock(REAL(f), level);
}

static int shimUnlock(sqlite3_file *f, int level) {
  int rc = flushFor(f);
  return rc != SQLITE_OK ? rc : RM(f)->xUnlock(REAL(f), level);
}

static int shimCheckReservedLock(sqlite3_file *f, int *out) {
  return RM(f)->xCheckReservedLock(REAL(f), out);
}

static int shimFileControl(sqlite3_file *f, int op, void *arg) {
  ShimFile *p = (ShimFile *)f;
  if (op == SQLITE_FCNTL_PRAGMA && !p->isWal) {
    char **args = (char **)arg;
    if (sqlite3_stricmp(args[1], "pneumatic_wal_buffer") == 0) {
      if (args[2]) p->bufferWal = sqlite3_strglob("[1-9]*", args[2]) == 0;
      args[0] = sqlite3_mprintf("%d", p->bufferWal);
      return SQLITE_OK;
    }
    /* Writes of the open WAL that were buffered, and the writes made of them: "gathered flushes". */
    if (sqlite3_stricmp(args[1], "pneumatic_wal_buffer_stats") == 0) {
      args[0] = sqlite3_mprintf("%lld %lld", p->wal ? p->wal->gathered : 0, p->wal ? p->wal->flushes : 0);
      return SQLITE_OK;
    }
  }
  int rc = flushFor(f);
  if (rc != SQLITE_OK) return rc;
  rc = RM(f)->xFileControl(REAL(f), op, arg);
  if (op == SQLITE_FCNTL_VFSNAME && rc == SQLITE_OK) {
    *(char **)arg = sqlite3_mprintf(SHIM_NAME "/%z", *(char **)arg);
  }
  return rc;
}

static int shimSectorSize(sqlite3_file *f) { return RM(f)->xSectorSize(REAL(f)); }

static int shimDeviceCharacteristics(sqlite3_file *f) { return RM(f)->xDeviceCharacteristics(REAL(f)); }

static int shimShmMap(sqlite3_file *f, int page, int size, int extend, void volatile **out) {
  int rc = flushFor(f);
  return rc != SQLITE_OK ? rc : RM(f)->xShmMap(REAL(f), page, size, extend, out);
}

static int shimShmLock(sqlite3_file *f, int offset, int n, int flags) {
  int rc = flushFor(f);
  return rc != SQLITE_OK ? rc : RM(f)->xShmLock(REAL(f), offset, n, flags);
}

static void shimShmBarrier(sqlite3_file *f) {
  /* Cannot report a failure: buffering is only asked for where a sync came first (see the top). */
  flushFor(f);
  RM(f)->xShmBarrier(REAL(f));
}

static int shimShmUnmap(sqlite3_file *f, int deleteFlag) {
  int rc = flushFor(f);
  int rc2 = RM(f)->xShmUnmap(REAL(f), deleteFlag);
  return rc != SQLITE_OK ? rc : rc2;
}

static int shimFetch(sqlite3_file *f, sqlite3_int64 offset, int amount, void **out) {
  return RM(f)->xFetch(REAL(f), offset, amount, out);
}

static int shimUnfetch(sqlite3_file *f, sqlite3_int64 offset, void *page) {
  return RM(f)->xUnfetch(REAL(f), offset, page);
}

static int shimOpen(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f, int flags, int *outFlags) {
  ShimFile *p = (ShimFile *)f;
  (void)vfs;
  memset(p, 0, sizeof(*p));
  p->real = (sqlite3_file *)&p[1];
  int rc = root->xOpen(root, name, p->real, flags, outFlags);
  if (rc != SQLITE_OK || !p->real->pMethods) {
    /* SQLite calls xClose only when pMethods is set: the real file has already cleaned up. */
    p->base.pMethods = 0;
    return rc;
  }
  if ((flags & SQLITE_OPEN_WAL) && name) {
    sqlite3_file *db = sqlite3_database_file_object(name);
    if (db && db->pMethods == &shimMethods) {
      p->isWal = 1;
      p->db = (ShimFile *)db;
      p->db->wal = p;
    }
  }
  p->base.pMethods = &shimMethods;
  return SQLITE_OK;
}

static int shimDelete(sqlite3_vfs *v, const char *name, int syncDir) { return root->xDelete(root, name, syncDir); }
static int shimAccess(sqlite3_vfs *v, const char *name, int flags, int *out) {
  return root->xAccess(root, name, flags, out);
}
static int shimFullPathname(sqlite3_vfs *v, const char *name, int n, char *out) {
  return root->xFullPathname(root, name, n, out);
}
static void *shimDlOpen(sqlite3_vfs *v, const char *name) { return root->xDlOpen(root, name); }
static void shimDlError(sqlite3_vfs *v, int n, char *out) { root->xDlError(root, n, out); }
static void (*shimDlSym(sqlite3_vfs *v, void *handle, const char *symbol))(void) {
  return root->xDlSym(root, handle, symbol);
}
static void shimDlClose(sqlite3_vfs *v, void *handle) { root->xDlClose(root, handle); }
static int shimRandomness(sqlite3_vfs *v, int n, char *out) { return root->xRandomness(root, n, out); }
static int shimSleep(sqlite3_vfs *v, int us) { return root->xSleep(root, us); }
static int shimCurrentTime(sqlite3_vfs *v, double *out) { return root->xCurrentTime(root, out); }
static int shimGetLastError(sqlite3_vfs *v, int n, char *out) { return root->xGetLastError(root, n, out); }
static int shimCurrentTimeInt64(sqlite3_vfs *v, sqlite3_int64 *out) { return root->xCurrentTimeInt64(root, out); }

static int registered = SQLITE_ERROR;

static void registerShim(void) {
  root = sqlite3_vfs_find(0);
  if (!root || root->iVersion < 2) return;
  shimMethods = (sqlite3_io_methods){
      3,
      shimClose,
      shimRead,
      shimWrite,
      shimTruncate,
      shimSync,
      shimFileSize,
      shimLock,
      shimUnlock,
      shimCheckReservedLock,
      shimFileControl,
      shimSectorSize,
      shimDeviceCharacteristics,
      shimShmMap,
      shimShmLock,
      shimShmBarrier,
      shimShmUnmap,
      shimFetch,
      shimUnfetch,
  };
  shim = (sqlite3_vfs){
      2,
      (int)sizeof(ShimFile) + root->szOsFile,
      root->mxPathname,
      0,
      SHIM_NAME,
      0,
      shimOpen,
      shimDelete,
      shimAccess,
      shimFullPathname,
      shimDlOpen,
      shimDlError,
      shimDlSym,
      shimDlClose,
      shimRandomness,
      shimSleep,
      shimCurrentTime,
      shimGetLastError,
      shimCurrentTimeInt64,
  };
  registered = sqlite3_vfs_register(&shim, 1);
}

static pthread_once_t once = PTHREAD_ONCE_INIT;

#ifdef _WIN32
__declspec(dllexport)
#endif
int sqlite3_walbuffer_init(sqlite3 *db, char **error, const sqlite3_api_routines *api) {
  SQLITE_EXTENSION_INIT2(api);
  (void)db;
  pthread_once(&once, registerShim);
  if (registered != SQLITE_OK) {
    *error = sqlite3_mprintf("could not register the " SHIM_NAME " VFS");
    return SQLITE_ERROR;
  }
  return SQLITE_OK_LOAD_PERMANENTLY;
}
