"""Where revisions come from: the working tree, the index, git refs, a predicted merge.

* ``worktree.read_worktree(env, root, *, cache=None) -> Snapshot``: files on
  disk, uncommitted edits included. Works outside git.
* ``gitref.GitRepo(path)``: a repository (worktree, linked worktree, bare,
  submodule) read with plain ``git`` subprocesses and one long-lived
  ``cat-file --batch-command`` process: ``resolve``, ``head_sha``,
  ``merge_base``, ``list_refs``, ``read_ref(env, ref)``, ``read_tree``,
  ``read_index``, ``blobs``, ``blob_ids``, ``tree_ids``, ``conflicted_paths``.
  Never checks out, never touches the index or the working tree.
* ``merged.predict_merge(repo, env, ours, theirs, *, worktree=True)``: the
  snapshot a merge would produce (``git merge-tree --write-tree``; a
  three-way union by path on older git, ``union_merge``).
* ``cache.ParseCache`` (parse results by blob id), ``cache.ResultCache``
  (whole results by key), ``cache.StatCache``.
* ``database.read_stamped(url)``: the revisions stamped in ``alembic_version`` (``read_stamp``: and which table).
"""

# The index as a snapshot (PRODUCT §1), where a ref is asked for: git names a
# path in the index `:path`, so `:` alone is the whole of it, as staged. Here,
# not in gitref, so that the API can name it without importing git's layer.
INDEX_REF = ":"
