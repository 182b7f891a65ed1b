"""Where revisions come from: the working tree, the index, git refs, a predicted merge.

CONTRACT:

* ``worktree.read_worktree(env, repo_root, *, cache=None) -> Snapshot`` --
  files on disk, uncommitted edits included. Works outside git.
* ``gitref.GitRepo(path)`` -- a repository handle (worktree, linked worktree
  or bare). ``.root`` (worktree top-level or None when bare), ``.git_dir``,
  ``.resolve(ref) -> sha`` (raises ``UnknownRefError``), ``.read_ref(env, ref,
  *, cache=None) -> Snapshot`` (no checkout; never touches index/worktree),
  ``.merge_base(a, b)``, ``.blob_ids(...)``; ``.close()``.
* ``merged.predict_merge(repo, env, ours, theirs, *, worktree=True) ->
  Snapshot`` -- the snapshot merging ``theirs`` into ``ours`` would produce.
* ``cache.ParseCache`` -- parse results keyed by blob id.
"""
