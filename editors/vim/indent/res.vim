" Vim indent file
" Language:    res (resilience scenarios, *.res)
"
" One shiftwidth per open brace, parenthesis or bracket; a line starting with a closer lines up
" with the line that opened it. Works in Vim and Neovim, with or without syntax highlighting.

if exists('b:did_indent')
  finish
endif
let b:did_indent = 1

setlocal autoindent
setlocal nosmartindent nocindent
setlocal indentexpr=GetResIndent(v:lnum)
setlocal indentkeys=0{,0},0),0],!^F,o,O,e

let b:undo_indent = 'setlocal autoindent< smartindent< cindent< indentexpr< indentkeys<'

if exists('*GetResIndent')
  finish
endif

let s:cpo_save = &cpo
set cpo&vim

" The net count of openers on a line, ignoring strings, comments and the closers it starts with
" (those were already accounted for when the line itself was indented).
function! s:NetOpeners(line) abort
  let net = 0
  let leading = 1
  let in_string = 0
  let i = 0
  let n = strlen(a:line)
  while i < n
    let c = a:line[i]
    if in_string
      if c ==# '\'
        let i += 1
      elseif c ==# '"'
        let in_string = 0
      endif
    elseif c ==# '"'
      let in_string = 1
      let leading = 0
    elseif c ==# '/' && a:line[i + 1] ==# '/'
      break
    elseif c ==# '/' && a:line[i + 1] ==# '*'
      let close = stridx(a:line, '*/', i + 2)
      if close < 0
        break
      endif
      let i = close + 1
    elseif c =~# '[{(\[]'
      let net += 1
      let leading = 0
    elseif c =~# '[})\]]'
      if !leading
        let net -= 1
      endif
    elseif c !~# '\s'
      let leading = 0
    endif
    let i += 1
  endwhile
  return net
endfunction

" Is line lnum inside a /* */ comment that started on an earlier line?
function! s:InBlockComment(lnum) abort
  if exists('b:current_syntax') && b:current_syntax ==# 'res'
    let col = max([indent(a:lnum), 0]) + 1
    for id in synstack(a:lnum, col)
      if synIDattr(id, 'name') ==# 'resBlockComment'
        " the opening line itself is code
        return getline(a:lnum) !~# '^\s*/\*'
      endif
    endfor
    return 0
  endif
  " without syntax: the nearest /* or */ above decides
  let lnum = a:lnum - 1
  while lnum > 0
    let text = getline(lnum)
    let open = strridx(text, '/*')
    let close = strridx(text, '*/')
    if open >= 0 || close >= 0
      return open > close
    endif
    let lnum -= 1
  endwhile
  return 0
endfunction

function! GetResIndent(lnum) abort
  if s:InBlockComment(a:lnum)
    " a ` * ...` line of a block comment lines up under the star of the line above; any other
    " comment text keeps its indent
    if getline(a:lnum) !~# '^\s*\*'
      return -1
    endif
    let above = prevnonblank(a:lnum - 1)
    return indent(above) + (getline(above) =~# '^\s*/\*' ? 1 : 0)
  endif
  let prev = prevnonblank(a:lnum - 1)
  " step over the lines of a block comment to the code before it
  while prev > 0 && s:InBlockComment(prev)
    let prev = prevnonblank(prev - 1)
  endwhile
  if prev == 0
    return 0
  endif
  let ind = indent(prev)
  let net = s:NetOpeners(getline(prev))
  if net > 0
    let ind += shiftwidth()
  elseif net < 0
    let ind -= shiftwidth()
  endif
  if getline(a:lnum) =~# '^\s*[})\]]'
    let ind -= shiftwidth()
  endif
  return max([ind, 0])
endfunction

let &cpo = s:cpo_save
unlet s:cpo_save
